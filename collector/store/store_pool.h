/* For the storage backends only: what both build their threads on.  The
 * queue of write jobs (store_submit's side and the store threads' side),
 * and the locks of a small pool of read connections. */
#ifndef COLLECTOR_STORE_POOL_H
#define COLLECTOR_STORE_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store.h"

#define STORE_POOL_MAX 16

/* Jobs in the order submitted, linked through job->next. */
struct job_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct store_job *head, **tail;
	bool closing;
};

void job_queue_init(struct job_queue *q);
void job_queue_destroy(struct job_queue *q);

/* Append a job; -1 once the queue is closing (the job is not taken). */
int job_queue_push(struct job_queue *q, struct store_job *job);

/* Wait for jobs and take up to max of them, linked through next (the
 * last one's next is NULL); NULL once the queue is closing and empty, so
 * that every job pushed before the close is still taken. */
struct store_job *job_queue_take(struct job_queue *q, int max);

/* No more pushes; wake every taker. */
void job_queue_close(struct job_queue *q);

/* n locks, one per read connection. */
struct lock_pool {
	pthread_mutex_t locks[STORE_POOL_MAX];
	unsigned n;
	atomic_uint next;		/* where a blocking take waits, round robin */
};

void lock_pool_init(struct lock_pool *p, unsigned n);
void lock_pool_destroy(struct lock_pool *p);

/* A free connection's index, locked: a free one if any, otherwise the
 * next in turn, waited for. */
unsigned lock_pool_take(struct lock_pool *p);
void lock_pool_give(struct lock_pool *p, unsigned i);

#endif
