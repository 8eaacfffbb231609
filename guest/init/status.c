/* The status channel (see status.h). */
#include "guest/init/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include <json-c/json.h>

#include "build_info.h"
#include "guest/init/log.h"
#include "measure/core/json.h"


const struct ci_status_paths ci_status_default_paths = {
	.event_log = CI_STATUS_EVENT_LOG,
	.gpu = CI_STATUS_GPU_FILE,
	.collateral = {"/run/spec/runtime/collateral-state.json", "/run/cocoon/collateral-state.json", NULL},
};

struct svc {
	char name[CI_NAME_MAX + 1];
	enum ci_svc_state state;
	int pid;
	unsigned restarts;
	char last_exit[64];
};

/* Everything the answer reports; one lock (never held while logging). */
static struct {
	pthread_mutex_t lock;
	bool tap_installed;
	const char *phase;
	char fatal[256];
	struct {
		char name[24];
		long long t_ms;
	} steps[CI_STATUS_MAX_STEPS];
	int n_steps;
	long long running_ms;
	char rtmr3[97];
	char image_hash[65];
	char image_hash_error[160];
	struct svc svcs[CI_MAX_SERVICES];
	int n_svcs;
	char log[CI_STATUS_LOG_LINES][256];
	unsigned log_next, log_count;
	uint32_t vsock_port;
} st = {.lock = PTHREAD_MUTEX_INITIALIZER, .phase = "booting"};

/* ci_log's tap: keep the line; a FATAL line makes the phase "failed". */
static void tap(const char *msg)
{
	pthread_mutex_lock(&st.lock);
	snprintf(st.log[st.log_next], sizeof st.log[0], "%s", msg);
	st.log_next = (st.log_next + 1) % CI_STATUS_LOG_LINES;
	if (st.log_count < CI_STATUS_LOG_LINES)
		st.log_count++;
	if (!strncmp(msg, "FATAL ", 6)) {
		st.phase = "failed";
		snprintf(st.fatal, sizeof st.fatal, "%s", msg + 6);
	}
	pthread_mutex_unlock(&st.lock);
}

static void install_tap(void)
{
	pthread_mutex_lock(&st.lock);
	bool first = !st.tap_installed;
	st.tap_installed = true;
	pthread_mutex_unlock(&st.lock);
	if (first)
		ci_log_set_tap(tap);
}

void ci_status_step(const char *name)
{
	ci_status_step_at(name, cm_mono_ms());
}

void ci_status_step_at(const char *name, long long t)
{
	install_tap();
	pthread_mutex_lock(&st.lock);
	if (st.n_steps < CI_STATUS_MAX_STEPS) {
		snprintf(st.steps[st.n_steps].name, sizeof st.steps[0].name, "%s", name);
		st.steps[st.n_steps].t_ms = t;
		st.n_steps++;
	}
	pthread_mutex_unlock(&st.lock);
	ci_log("step %s at %lld ms", name, t);
}

void ci_status_running(void)
{
	long long t = cm_mono_ms();
	pthread_mutex_lock(&st.lock);
	long long t0 = st.n_steps ? st.steps[0].t_ms : t;
	st.running_ms = t;
	if (strcmp(st.phase, "failed") != 0)
		st.phase = "running";
	pthread_mutex_unlock(&st.lock);
	ci_log("services started at %lld ms (%lld ms after /init started at %lld ms)", t, t - t0, t0);
}

void ci_status_stopping(void)
{
	pthread_mutex_lock(&st.lock);
	st.phase = "stopping";
	pthread_mutex_unlock(&st.lock);
}

void ci_status_rtmr3(const char *hex)
{
	pthread_mutex_lock(&st.lock);
	snprintf(st.rtmr3, sizeof st.rtmr3, "%s", hex);
	pthread_mutex_unlock(&st.lock);
}

void ci_status_image_hash(const char *hex, const char *error)
{
	pthread_mutex_lock(&st.lock);
	snprintf(st.image_hash, sizeof st.image_hash, "%s", hex ? hex : "");
	snprintf(st.image_hash_error, sizeof st.image_hash_error, "%s", error ? error : "");
	pthread_mutex_unlock(&st.lock);
}

void ci_status_services(const struct ci_spec *s)
{
	pthread_mutex_lock(&st.lock);
	memset(st.svcs, 0, sizeof st.svcs);
	st.n_svcs = s->n_services;
	for (int i = 0; i < s->n_services; i++)
		snprintf(st.svcs[i].name, sizeof st.svcs[i].name, "%s", s->services[i].name);
	pthread_mutex_unlock(&st.lock);
}

void ci_status_service(int i, enum ci_svc_state state, int pid, bool restarted, const char *last_exit)
{
	pthread_mutex_lock(&st.lock);
	if (i >= 0 && i < st.n_svcs) {
		st.svcs[i].state = state;
		st.svcs[i].pid = pid;
		if (restarted)
			st.svcs[i].restarts++;
		if (last_exit)
			snprintf(st.svcs[i].last_exit, sizeof st.svcs[i].last_exit, "%s", last_exit);
	}
	pthread_mutex_unlock(&st.lock);
}

/* ---- the request --------------------------------------------------------------------- */

int ci_status_parse_request(const char *line, size_t len, char nonce[CI_STATUS_NONCE_MAX + 1], struct cm_err *e)
{
	nonce[0] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len < 6 || memcmp(line, "status", 6) != 0 || (len > 6 && line[6] != ' '))
		return cm_fail(e, -EINVAL, "unknown request (the only request is \"status [NONCE]\")");
	if (len == 6)
		return 0;
	size_t n = len - 7;
	if (n == 0 || n > CI_STATUS_NONCE_MAX)
		return cm_fail(e, -EINVAL, "nonce must be 1..%d characters", CI_STATUS_NONCE_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = line[7 + i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return cm_fail(e, -EINVAL, "nonce must be [A-Za-z0-9_-]");
	}
	memcpy(nonce, line + 7, n);
	nonce[n] = '\0';
	return 0;
}

/* ---- the answer ---------------------------------------------------------------------- */

static const char *svc_state_name(enum ci_svc_state s)
{
	static const char *const names[] = {"waiting", "running", "backoff", "exited", "stopped"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

static json_object *str_or_null(const char *s)
{
	return *s ? json_object_new_string(s) : NULL;
}

/* At most CI_STATUS_FILE_MAX bytes of a regular file (NUL-terminated, malloc'd), NULL when
 * absent or unreadable; *cut when the file was longer. */
static char *read_small(const char *path, size_t *len, bool *cut)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat sb;
	char *buf = NULL;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (buf = malloc(CI_STATUS_FILE_MAX + 2))) {
		size_t n = 0;
		ssize_t r;
		while (n < CI_STATUS_FILE_MAX + 1 &&
		       (r = read(fd, buf + n, CI_STATUS_FILE_MAX + 1 - n)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			n += (size_t)r;
		}
		*cut = n > CI_STATUS_FILE_MAX;
		*len = *cut ? CI_STATUS_FILE_MAX : n;
		buf[*len] = '\0';
	}
	close(fd);
	return buf;
}

/* The RTMR3 event log: one printable line per extend. */
static json_object *event_log(const char *path)
{
	size_t len = 0;
	bool cut = false;
	char *text = read_small(path, &len, &cut);
	if (!text)
		return NULL;
	json_object *arr = json_object_new_array();
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		for (char *p = l; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		json_object_array_add(arr, json_object_new_string(l));
	}
	free(text);
	return arr;
}

/* A small JSON file another part wrote (gpu.json of the GPU step, the collateral state of
 * `cocoon-launch collateral`), read with the strict reader: the parsed object, or an
 * object with "error" when it is too large or not JSON; NULL when it does not exist. */
static json_object *json_file(const char *path, const char *name)
{
	size_t len = 0;
	bool cut = false;
	char *text = read_small(path, &len, &cut);
	if (!text)
		return NULL;
	json_object *o = NULL;
	struct cm_jv root;
	struct cm_err e = {0};
	if (!cut && cm_json_read(text, len, CI_STATUS_FILE_MAX, name, &root, &e) == 0) {
		o = json_object_get(root.o);
		cm_json_release(&root);
	}
	if (!o) {
		o = json_object_new_object();
		cm_json_add_str(o, "error", cut ? "too large" : "not JSON");
	}
	free(text);
	return o;
}

static json_object *gpu_summary(const char *path)
{
	return json_file(path, "gpu.json");
}

/* The collateral state (docs/formats.md "Collateral state") with the file's path and age. */
static json_object *collateral(const char *const *paths)
{
	for (int i = 0; paths[i]; i++) {
		struct stat sb;
		if (stat(paths[i], &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		json_object *o = json_object_new_object();
		cm_json_add_str(o, "path", paths[i]);
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		cm_json_add_int(o, "age_s", (int64_t)(now.tv_sec - sb.st_mtim.tv_sec));
		json_object_object_add(o, "state", json_file(paths[i], "collateral-state.json"));
		return o;
	}
	return NULL;
}

/* The in-memory state (under the lock). */
static void add_state(json_object *o)
{
	pthread_mutex_lock(&st.lock);
	cm_json_add_str(o, "phase", st.phase);
	json_object_object_add(o, "fatal", str_or_null(st.fatal));
	json_object *steps = json_object_new_array();
	for (int i = 0; i < st.n_steps; i++) {
		json_object *s = json_object_new_object();
		cm_json_add_str(s, "name", st.steps[i].name);
		cm_json_add_int(s, "t_ms", st.steps[i].t_ms);
		json_object_array_add(steps, s);
	}
	json_object_object_add(o, "step", str_or_null(st.n_steps ? st.steps[st.n_steps - 1].name : ""));
	json_object_object_add(o, "steps", steps);
	json_object_object_add(o, "services_started_ms", st.running_ms ? json_object_new_int64(st.running_ms) : NULL);
	json_object_object_add(o, "rtmr3", str_or_null(st.rtmr3));
	json_object_object_add(o, "image_hash", str_or_null(st.image_hash));
	json_object_object_add(o, "image_hash_error", str_or_null(st.image_hash_error));
	json_object *svcs = json_object_new_array();
	for (int i = 0; i < st.n_svcs; i++) {
		json_object *s = json_object_new_object();
		cm_json_add_str(s, "name", st.svcs[i].name);
		cm_json_add_str(s, "state", svc_state_name(st.svcs[i].state));
		json_object_object_add(s, "pid", st.svcs[i].pid > 0 ? json_object_new_int(st.svcs[i].pid) : NULL);
		cm_json_add_int(s, "restarts", st.svcs[i].restarts);
		json_object_object_add(s, "last_exit", str_or_null(st.svcs[i].last_exit));
		json_object_array_add(svcs, s);
	}
	json_object_object_add(o, "services", svcs);
	json_object *log = json_object_new_array();
	for (unsigned k = 0; k < st.log_count; k++) {
		unsigned i = (st.log_next + CI_STATUS_LOG_LINES - st.log_count + k) % CI_STATUS_LOG_LINES;
		json_object_array_add(log, json_object_new_string(st.log[i]));
	}
	json_object_object_add(o, "log_tail", log);
	json_object_object_add(o, "vsock_port", st.vsock_port ? json_object_new_int64(st.vsock_port) : NULL);
	pthread_mutex_unlock(&st.lock);
}

static char *to_line(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);
	char *out = malloc(n + 2);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\n';
		out[n + 1] = '\0';
	}
	json_object_put(o);
	return out;
}

char *ci_status_answer(const char *line, size_t len, const struct ci_status_paths *paths)
{
	char nonce[CI_STATUS_NONCE_MAX + 1];
	struct cm_err e = {0};
	json_object *o = json_object_new_object();
	if (ci_status_parse_request(line, len, nonce, &e) < 0) {
		cm_json_add_str(o, "error", e.msg);
		return to_line(o);
	}
	cm_json_add_str(o, "nonce", nonce);
	cm_json_add_str(o, "version", COCOON_VERSION);
	cm_json_add_int(o, "uptime_ms", cm_mono_ms());
	add_state(o);
	json_object_object_add(o, "event_log", event_log(paths->event_log));
	json_object_object_add(o, "gpu", gpu_summary(paths->gpu));
	json_object_object_add(o, "collateral", collateral(paths->collateral));
	return to_line(o);
}

/* ---- the server thread --------------------------------------------------------------- */

/* Write all of s before the deadline (fd non-blocking); a slow or absent reader loses the
 * answer, never the thread. */
static void write_deadline(int fd, const char *s, size_t n, long long deadline)
{
	while (n > 0) {
		long long left = deadline - cm_mono_ms();
		if (left <= 0)
			return;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, (int)left) <= 0 || !(p.revents & POLLOUT))
			return;
		ssize_t w = write(fd, s, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, const char *line, size_t len)
{
	char *a = ci_status_answer(line, len, &ci_status_default_paths);
	if (a) {
		write_deadline(fd, a, strlen(a), cm_mono_ms() + CI_STATUS_WRITE_MS);
		free(a);
	}
}

/* A request line being assembled from a stream. Overlong lines are answered with an
 * error once their newline arrives. */
struct linebuf {
	char buf[CI_STATUS_REQ_MAX];
	size_t n;
	bool overlong;
};

/* Feed bytes; answer every complete line. Returns the number of lines answered. */
static int feed(struct linebuf *lb, int fd, const char *p, size_t n)
{
	int answered = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (lb->overlong)
				answer(fd, "", 0);
			else
				answer(fd, lb->buf, lb->n);
			answered++;
			lb->n = 0;
			lb->overlong = false;
		} else if (lb->n + 1 < sizeof lb->buf) {
			lb->buf[lb->n++] = p[i];
		} else {
			lb->overlong = true;
		}
	}
	return answered;
}

/* The virtio-serial port named CI_STATUS_PORT_NAME, opened non-blocking, or -1. */
static int open_serial(void)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -1;
	int fd = -1;
	struct dirent *de;
	while (fd < 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "vport", 5) != 0 || strlen(de->d_name) > 32)
			continue;
		char path[96], name[64] = "";
		snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", de->d_name);
		long r = cm_read_upto(path, name, sizeof name - 1);
		if (r <= 0)
			continue;
		name[r] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, CI_STATUS_PORT_NAME) != 0)
			continue;
		snprintf(path, sizeof path, "/dev/%s", de->d_name);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	}
	closedir(d);
	return fd;
}

static int listen_vsock(uint32_t port)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* One vsock connection: one request line before the deadline, one answer, close. */
static void serve_conn(int fd)
{
	struct linebuf lb = {0};
	char buf[CI_STATUS_REQ_MAX];
	long long deadline = cm_mono_ms() + CI_STATUS_IO_MS;
	for (;;) {
		long long left = deadline - cm_mono_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0 || feed(&lb, fd, buf, (size_t)r) > 0)
			break;
	}
	close(fd);
}

static void *server(void *arg)
{
	(void)arg;
	int serial = -1, vsock = -1;
	uint32_t vsock_want = 0;
	long long serial_scan = 0, serial_quiet = 0;
	struct linebuf lb = {0};
	for (;;) {
		long long now = cm_mono_ms();
		if (serial < 0 && now >= serial_scan) {
			serial = open_serial();
			serial_scan = now + 1000;
		}
		pthread_mutex_lock(&st.lock);
		uint32_t port = st.vsock_port;
		pthread_mutex_unlock(&st.lock);
		if (port && port != vsock_want) {
			vsock_want = port;
			vsock = listen_vsock(port);
			if (vsock < 0)
				ci_log("status: vsock port %u unavailable (%s)", port, strerror(-vsock));
			else
				ci_log("status: listening on vsock port %u", port);
		}
		struct pollfd p[2];
		nfds_t np = 0;
		int si = -1, vi = -1;
		if (serial >= 0 && now >= serial_quiet) {
			si = (int)np;
			p[np++] = (struct pollfd){.fd = serial, .events = POLLIN};
		}
		if (vsock >= 0) {
			vi = (int)np;
			p[np++] = (struct pollfd){.fd = vsock, .events = POLLIN};
		}
		int k = poll(p, np, 250);
		if (k < 0 && errno != EINTR) {
			struct timespec ts = {0, 250 * 1000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		if (si >= 0 && (p[si].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[512];
			ssize_t r = read(serial, buf, sizeof buf);
			if (r > 0) {
				feed(&lb, serial, buf, (size_t)r);
			} else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				/* EOF: no host on the other end (the port reads as EOF and polls as
				 * readable then): drop the partial line, look again in 250 ms */
				lb.n = 0;
				lb.overlong = false;
				serial_quiet = cm_mono_ms() + 250;
				if (r < 0) {
					close(serial);
					serial = -1;
				}
			}
		}
		if (vi >= 0 && (p[vi].revents & POLLIN)) {
			int c = accept4(vsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (c >= 0)
				serve_conn(c);
		}
	}
	return NULL;
}

int ci_status_start(struct cm_err *e)
{
	install_tap();
	/* The thread takes no signals: PID 1's SIGCHLD/SIGTERM/SIGINT/SIGPWR must stay pending
	 * for the supervisor's signalfd (a thread with them unblocked would swallow them). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	int r = pthread_create(&t, &a, server, NULL);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return cm_fail(e, -r, "status thread (%s)", strerror(r));
	return 0;
}

void ci_status_vsock(uint32_t port)
{
	pthread_mutex_lock(&st.lock);
	st.vsock_port = port;
	pthread_mutex_unlock(&st.lock);
}
