/*
 * app.h: what every module shares: the one error enum and a few
 * compiler attributes.  No third-party header is included here.
 */
#ifndef APP_H
#define APP_H

#define WUR __attribute__((warn_unused_result))

/*
 * The outcome of anything fallible.  resp_error() is the one place that
 * turns a value into an HTTP status and a JSON body.
 */
enum app_err {
	APP_OK = 0,
	APP_NOMEM,		/* allocation failed: 500 */
	APP_INVALID,		/* validation failed, body prepared: 422 */
	APP_BADREQ,		/* unparseable body: 400 */
	APP_NOTFOUND,		/* 404 */
	APP_METHOD,		/* 405 */
	APP_CONFLICT,		/* 409 */
	APP_TOOBIG,		/* 413 */
	APP_URITOOLONG,		/* path or query string over its limit: 414 */
	APP_FORBIDDEN,		/* 403 */
	APP_UNAUTH,		/* 401 */
	APP_DBDOWN,		/* database unreachable or timed out: 503 */
	APP_SYSTEM,		/* anything else: 500 */
	APP__MAX
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
