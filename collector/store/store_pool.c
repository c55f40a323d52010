/* The job queue and the read-connection locks both backends use. */
#include "store_pool.h"

void
job_queue_init(struct job_queue *q)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->head = NULL;
	q->tail = &q->head;
	q->closing = false;
}

void
job_queue_destroy(struct job_queue *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
}

int
job_queue_push(struct job_queue *q, struct store_job *job)
{
	pthread_mutex_lock(&q->lock);
	if (q->closing) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	job->next = NULL;
	*q->tail = job;
	q->tail = &job->next;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

struct store_job *
job_queue_take(struct job_queue *q, int max)
{
	struct store_job *batch, **end;
	int n = 0;

	pthread_mutex_lock(&q->lock);
	while (q->head == NULL && !q->closing)
		pthread_cond_wait(&q->cond, &q->lock);
	batch = q->head;
	for (end = &q->head; *end != NULL && n < max; n++)
		end = &(*end)->next;
	q->head = *end;
	*end = NULL;
	if (q->head == NULL)
		q->tail = &q->head;
	pthread_mutex_unlock(&q->lock);
	return batch;
}

void
job_queue_close(struct job_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closing = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void
lock_pool_init(struct lock_pool *p, unsigned n)
{
	p->n = n < STORE_POOL_MAX ? n : STORE_POOL_MAX;
	for (unsigned i = 0; i < p->n; i++)
		pthread_mutex_init(&p->locks[i], NULL);
	atomic_init(&p->next, 0);
}

void
lock_pool_destroy(struct lock_pool *p)
{
	for (unsigned i = 0; i < p->n; i++)
		pthread_mutex_destroy(&p->locks[i]);
}

unsigned
lock_pool_take(struct lock_pool *p)
{
	unsigned i;

	for (i = 0; i < p->n; i++)
		if (pthread_mutex_trylock(&p->locks[i]) == 0)
			return i;
	i = atomic_fetch_add(&p->next, 1) % p->n;
	pthread_mutex_lock(&p->locks[i]);
	return i;
}

void
lock_pool_give(struct lock_pool *p, unsigned i)
{
	pthread_mutex_unlock(&p->locks[i]);
}
