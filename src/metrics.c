/*
 * metrics.c: the counters behind GET /api/metrics: this process's page,
 * counting into it, and the metrics_dir files of all processes.
 *
 * One page per process (struct page): request counts by route row and
 * status, a latency histogram per route row, body bytes written, and the
 * database's connects, reconnects, failed connects and errors.  The
 * process is the only writer of its page, single-threaded: counting is a
 * load and a relaxed store, no system call, no lock.
 *
 * With metrics_dir the page is a file of that directory, mapped shared,
 * named p-PID-STARTUS.tgm, and held with a shared flock(2) for the life
 * of the process.  The kernel drops the lock when the process ends,
 * however it ends, so "the lock can be taken" means "its writer is
 * gone", also when the pid is reused, and across users.  A new file is
 * created under a dot name, locked, then renamed into place: a scan never
 * sees a p- file unlocked while its process lives (dot files are removed
 * only once unlocked and a minute old).
 *
 * A scrape (or a process start) takes an exclusive flock on .lock in
 * the directory, then folds each dead process's file into dead.tgm (sum
 * written to a temporary file, renamed over dead.tgm together with the
 * folded file's name, then the folded file unlinked: a crash between the
 * two steps is repaired by the next scan, which finds the named file
 * still there and only unlinks it).  The answer is dead.tgm plus every
 * remaining file: counters never go back while the directory lives.
 * Files written by a build with another route table or layout (an
 * upgrade while old processes still run) are not summed; once dead they
 * are removed.
 *
 * metrics_render() picks the counts to answer with (this process's, or
 * the directory's sum); metrics_text.c writes them as Prometheus text.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"
#include "metrics_int.h"
#include "route.h"

#define MAGIC		0x31305247544d4754ULL	/* "TGMTGR01" */

/* Statuses taskgate answers; anything else is counted as "other". */
const int metrics_status_code[NSTATUS - 1] = {
	200, 204, 304, 307, 400, 401, 403, 404, 405, 409, 413, 414, 422,
	500, 503
};

/* Upper bounds of the latency buckets, in microseconds (metrics_text.c
 * has their labels). */
static const uint64_t bucket_us[NBUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000
};

struct page {
	uint64_t	 magic;
	uint64_t	 layout;	/* hash of the route table and sizes */
	int64_t		 pid;
	int64_t		 start_us;	/* CLOCK_REALTIME at start */
	struct metrics_counts	 c;
};

/* dead.tgm: the folded counts, and the name of the last file folded. */
struct dead {
	struct page	 p;
	char		 last[64];
};

static struct page	*me;		/* NULL: not counting */
static int		 dirfd_ = -1;	/* metrics_dir, or -1 */
static int		 myfd = -1;
static char		 myname[64];
static char		 initerr[256];

#define INC(x, n)	__atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)

/* FNV-1a over the route table and the layout: pages of another build
 * (other routes, other sizes) must not be summed with ours. */
static uint64_t
layout_hash(void)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;
	const char	*s;
	char		 sz[64];

#define MIX(str) for (s = (str); ; s++) { h ^= (unsigned char)*s; \
	h *= 0x100000001b3ULL; if (*s == '\0') break; }
	snprintf(sz, sizeof(sz), "%zu/%d/%d/%d", sizeof(struct page),
	    MAX_ROUTES, NSTATUS, NBUCKETS);
	MIX(sz);
	for (i = 0; i < route_count; i++) {
		MIX(route_table[i].method);
		MIX(route_table[i].pattern);
	}
#undef MIX
	return h;
}

static int64_t
realtime_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
metrics_enabled(void)
{
	return me != NULL;
}

/*
 * Counts one answered request: route is its index in route_table
 * (route_count or more: it matched none), ms its duration, bytes the
 * body bytes written.  No system call; does nothing when not counting.
 */
void
metrics_request(size_t route, int status, double ms, size_t bytes)
{
	struct metrics_counts	*c;
	uint64_t	 us;
	size_t		 s, b;

	if (me == NULL)
		return;
	c = &me->c;
	if (route > route_count)
		route = route_count;
	for (s = 0; s < NSTATUS - 1 && metrics_status_code[s] != status; s++)
		continue;
	us = ms > 0 ? (uint64_t)(ms * 1000.0 + 0.5) : 0;
	for (b = 0; b < NBUCKETS - 1 && us > bucket_us[b]; b++)
		continue;
	INC(c->req[route][s], 1);
	INC(c->hist[route][b], 1);
	INC(c->sum_us[route], us);
	INC(c->bytes_out, bytes);
}

/* A connection attempt: ok or not; again when the handle had one before. */
void
metrics_db_connect(int ok, int again)
{
	if (me == NULL)
		return;
	if (!ok)
		INC(me->c.db_connect_failures, 1);
	else {
		INC(me->c.db_connects, 1);
		if (again)
			INC(me->c.db_reconnects, 1);
	}
}

/* Any error db.c records: connect, statement, lost connection. */
void
metrics_db_error(void)
{
	if (me != NULL)
		INC(me->c.db_errors, 1);
}

static void
add_counts(struct metrics_counts *dst, const struct metrics_counts *src)
{
	uint64_t	*d = (uint64_t *)(void *)dst;
	const uint64_t	*s = (const uint64_t *)(const void *)src;
	size_t		 i;

	for (i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

static void
page_header(struct page *p)
{
	p->magic = MAGIC;
	p->layout = layout_hash();
	p->pid = (int64_t)getpid();
	p->start_us = realtime_us();
}

struct scan {
	struct metrics_counts	 sum;
	unsigned	 live, folded, skipped;
	struct buf	 starts;	/* process_start_time_seconds lines */
};

static void	scan_dir(struct scan *);

/*
 * Creates this process's page: a heap page without a directory, else
 * the locked, mapped file described at the top.  Returns 0 with the
 * reason in err (the process then does not count, and /api/metrics
 * answers 500 naming it).
 */
int
metrics_init(const char *dir, char *err, size_t errlen)
{
	char		 tmp[64];
	struct page	*p = MAP_FAILED;
	int		 fd = -1;
	const char	*what = "";

	if (route_count + 1 > MAX_ROUTES) {
		snprintf(initerr, sizeof(initerr), "more than %d routes",
		    MAX_ROUTES - 1);
		goto fail;
	}
	if (dir == NULL || *dir == '\0') {
		if ((me = calloc(1, sizeof(*me))) == NULL) {
			snprintf(initerr, sizeof(initerr), "out of memory");
			goto fail;
		}
		page_header(me);
		return 1;
	}
	if ((dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		what = "open";
		goto sysfail;
	}
	snprintf(tmp, sizeof(tmp), ".new-%ld", (long)getpid());
	(void)unlinkat(dirfd_, tmp, 0);	/* an earlier process of this pid */
	fd = openat(dirfd_, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		what = "create a file in";
		goto sysfail;
	}
	if (ftruncate(fd, (off_t)sizeof(struct page)) == -1 ||
	    flock(fd, LOCK_SH) == -1 ||
	    (p = mmap(NULL, sizeof(struct page), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		what = "map a file in";
		goto sysfail;
	}
	page_header(p);
	snprintf(myname, sizeof(myname), "p-%lld-%lld.tgm",
	    (long long)p->pid, (long long)p->start_us);
	if (renameat(dirfd_, tmp, dirfd_, myname) == -1) {
		what = "rename a file in";
		goto sysfail;
	}
	me = p;
	myfd = fd;
	/* Fold what dead processes left, so the directory stays small even
	 * when nobody scrapes (mod_fcgid recycles processes). */
	{
		struct scan	 sc;

		scan_dir(&sc);
		buf_free(&sc.starts);
	}
	return 1;
sysfail:
	snprintf(initerr, sizeof(initerr), "metrics_dir %s: cannot %s it: %s",
	    dir, what, strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, sizeof(struct page));
	if (fd != -1) {
		(void)unlinkat(dirfd_, tmp, 0);
		close(fd);
	}
	if (dirfd_ != -1)
		close(dirfd_);
	dirfd_ = -1;
fail:
	snprintf(err, errlen, "%s", initerr);
	return 0;
}

/*
 * Unmaps and closes this process's page.  Its file stays, unlocked: the
 * next scan folds its counts into dead.tgm.
 */
void
metrics_close(void)
{
	if (me != NULL && myfd != -1) {
		munmap(me, sizeof(struct page));
		close(myfd);
	} else
		free(me);
	if (dirfd_ != -1)
		close(dirfd_);
	me = NULL;
	myfd = dirfd_ = -1;
}

/* Reads a page file; 1 when it is whole and of our layout. */
static int
read_page(int fd, struct page *p, uint64_t layout)
{
	ssize_t	 n = pread(fd, p, sizeof(*p), 0);

	return n == (ssize_t)sizeof(*p) && p->magic == MAGIC &&
	    p->layout == layout;
}

static void
read_dead(struct dead *d, uint64_t layout)
{
	int	 fd, ok = 0;

	memset(d, 0, sizeof(*d));
	if ((fd = openat(dirfd_, "dead.tgm", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		ok = pread(fd, d, sizeof(*d), 0) == (ssize_t)sizeof(*d) &&
		    d->p.magic == MAGIC && d->p.layout == layout;
		close(fd);
	}
	if (!ok) {
		memset(d, 0, sizeof(*d));	/* none yet, or another build's */
		d->p.magic = MAGIC;
		d->p.layout = layout;
	}
	d->last[sizeof(d->last) - 1] = '\0';
}

/* Writes dead.tgm whole (temporary file, rename).  1 on success. */
static int
write_dead(const struct dead *d)
{
	int	 fd, ok;

	fd = openat(dirfd_, ".dead.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return 0;
	ok = write(fd, d, sizeof(*d)) == (ssize_t)sizeof(*d);
	if (close(fd) == -1)
		ok = 0;
	if (ok && renameat(dirfd_, ".dead.tmp", dirfd_, "dead.tgm") == -1)
		ok = 0;
	return ok;
}

/*
 * One directory entry of a scan, under the directory lock: summed when
 * its process lives, folded into *d (and removed) when it is gone.
 */
static void
scan_file(struct scan *sc, struct dead *d, const char *name, uint64_t layout)
{
	struct page	 p;
	int		 fd, alive, ours;

	if (strncmp(name, ".new-", 5) != 0 &&
	    (strncmp(name, "p-", 2) != 0 || strlen(name) >= sizeof(d->last)))
		return;
	if ((fd = openat(dirfd_, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	alive = flock(fd, LOCK_EX | LOCK_NB) == -1;
	if (name[0] == '.') {
		/*
		 * A start that died before its rename.  A start in progress
		 * has not taken its lock yet for a moment after creating the
		 * file: only a file a minute old is stale.
		 */
		struct stat	 st;

		if (!alive && fstat(fd, &st) == 0 &&
		    st.st_mtime + 60 < time(NULL))
			(void)unlinkat(dirfd_, name, 0);
		goto done;
	}
	ours = read_page(fd, &p, layout);
	if (alive) {
		if (!ours) {
			sc->skipped++;
			goto done;
		}
		add_counts(&sc->sum, &p.c);
		sc->live++;
		buf_printf(&sc->starts, "process_start_time_seconds{pid=\"%lld\"}"
		    " %lld.%06lld\n", (long long)p.pid,
		    (long long)(p.start_us / 1000000),
		    (long long)(p.start_us % 1000000));
		goto done;
	}
	if (ours) {
		struct dead	 nd = *d;

		add_counts(&nd.p.c, &p.c);
		snprintf(nd.last, sizeof(nd.last), "%s", name);
		if (!write_dead(&nd)) {
			/* Cannot fold now: count it where it is. */
			add_counts(&sc->sum, &p.c);
			goto done;
		}
		*d = nd;
		sc->folded++;
	}
	(void)unlinkat(dirfd_, name, 0);
done:
	close(fd);
}

/*
 * Under the directory lock: folds dead processes' files into dead.tgm
 * and sums dead.tgm and every live file into sc (sc->starts must be
 * freed by the caller).  Never fails: what cannot be read is left out.
 */
static void
scan_dir(struct scan *sc)
{
	struct dead	 d;
	DIR		*dp;
	struct dirent	*de;
	uint64_t	 layout;
	int		 lfd, dfd;

	memset(sc, 0, sizeof(*sc));
	buf_init(&sc->starts);
	layout = layout_hash();
	lfd = openat(dirfd_, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (lfd != -1)
		(void)flock(lfd, LOCK_EX);
	read_dead(&d, layout);
	/* A fold that was interrupted before its unlink: finish it. */
	if (d.last[0] != '\0')
		(void)unlinkat(dirfd_, d.last, 0);
	if ((dfd = dup(dirfd_)) != -1 && (dp = fdopendir(dfd)) != NULL) {
		rewinddir(dp);
		while ((de = readdir(dp)) != NULL)
			scan_file(sc, &d, de->d_name, layout);
		closedir(dp);
	} else if (dfd != -1)
		close(dfd);
	if (lfd != -1)
		close(lfd);	/* releases the lock */
	add_counts(&sc->sum, &d.p.c);
}

/*
 * Appends the whole answer of /api/metrics to b.  Returns APP_SYSTEM
 * when this process does not count (metrics_init failed: the reason is
 * in the body, as plain text), APP_NOMEM when b ran out of memory.
 */
enum app_err
metrics_render(struct buf *b)
{
	struct scan	 sc;
	char		 pid[48];

	if (me == NULL) {
		buf_printf(b, "%s", initerr[0] ? initerr : "metrics are off");
		return APP_SYSTEM;
	}
	if (myfd == -1) {
		/* One process: its own counts, labelled with its pid. */
		snprintf(pid, sizeof(pid), "pid=\"%lld\",", (long long)me->pid);
		metrics_text(b, &me->c, pid);
		buf_adds(b, "# HELP process_start_time_seconds Start time of "
		    "the process since the epoch, in seconds.\n"
		    "# TYPE process_start_time_seconds gauge\n");
		buf_printf(b, "process_start_time_seconds{pid=\"%lld\"} "
		    "%lld.%06lld\n", (long long)me->pid,
		    (long long)(me->start_us / 1000000),
		    (long long)(me->start_us % 1000000));
		return b->oom ? APP_NOMEM : APP_OK;
	}
	scan_dir(&sc);
	metrics_text(b, &sc.sum, "");
	buf_adds(b, "# HELP process_start_time_seconds Start time of each "
	    "live process since the epoch, in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n");
	if (sc.starts.len > 0)
		buf_add(b, sc.starts.p, sc.starts.len);
	buf_printf(b, "# HELP taskgate_metrics_processes Processes whose "
	    "counts this answer sums (live: running now; files of another "
	    "build are skipped).\n"
	    "# TYPE taskgate_metrics_processes gauge\n"
	    "taskgate_metrics_processes{state=\"live\"} %u\n"
	    "taskgate_metrics_processes{state=\"skipped\"} %u\n"
	    "# HELP taskgate_metrics_answering_pid The process that answered "
	    "this scrape.\n"
	    "# TYPE taskgate_metrics_answering_pid gauge\n"
	    "taskgate_metrics_answering_pid %lld\n", sc.live, sc.skipped,
	    (long long)me->pid);
	buf_free(&sc.starts);
	return b->oom ? APP_NOMEM : APP_OK;
}
