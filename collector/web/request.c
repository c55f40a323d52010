/* A request and its answer: the helpers every route and page shares. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "request.h"

static const char JSON[] = "application/json";

void
api_respond_json(struct api_response *resp, int status, json_t *obj)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = JSON;
	resp->body = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (resp->body == NULL) {
		/* Out of memory: a fixed answer rather than none. */
		resp->status = 503;
		resp->body = strdup("{\"error\":\"out of memory\"}");
	}
}

void
api_error(struct api_response *resp, int status, const char *msg)
{
	api_respond_json(resp, status, json_pack("{s:s}", "error", msg));
}

const char *
api_arg(const struct api_request *req, const char *key)
{
	for (size_t i = 0; i < req->n_args; i++)
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].value;
	return NULL;
}

void
api_request_free(struct api_request *req)
{
	free(req->path);
	free(req->token_id);
	free(req->content_type);
	free(req->authorization);
	for (size_t i = 0; i < req->n_args; i++) {
		free(req->args[i].key);
		free(req->args[i].value);
	}
	free(req->summary);
	/* packed but never submitted (shutting down): the store frees it
	 * before done() otherwise, leaving it zeroed */
	packed_free(&req->job.packed);
	buf_free(&req->body);
	free(req->resp.body);
	memset(req, 0, sizeof *req);
}
