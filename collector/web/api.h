/*
 * The Beacon API of COLLECTOR.md §3: routing and every protocol decision,
 * kept apart from libmicrohttpd (front/http.c), which only carries requests in
 * and answers out.  A request goes through up to three steps:
 *
 *   api_begin()     headers only: 400/404/405/415/413/429/401 are decided
 *                   here, before any body byte is read;
 *   api_finish()    the whole body is there: validate, then either answer
 *                   or prepare a job that http.c submits to the store;
 *   api_job_done()  the store has committed (or failed): the answer.
 */
#ifndef COLLECTOR_API_H
#define COLLECTOR_API_H

#include "request.h"

enum api_next {
	API_RESPOND,		/* resp is set: send it */
	API_READ_BODY,		/* read the body (at most body_max bytes) */
	API_SUBMIT,		/* req->job is ready: submit it, then api_job_done */
	API_CHECK_PASSWORD,	/* suspend, auth_submit(req); when auth_done has
				 * been called, api_after_check gives the answer */
};

enum api_next api_begin(struct api_request *req);
enum api_next api_finish(struct api_request *req);

/* Called (from a store thread) when req's job is done; fills resp. */
void api_job_done(struct api_request *req);

/* The password check is over (API_CHECK_PASSWORD): the route's answer, or
 * 401 / 503; always API_RESPOND.  On an MHD thread. */
enum api_next api_after_check(struct api_request *req);

#endif
