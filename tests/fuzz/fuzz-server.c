/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for snapmgrd's status socket server (daemon/server.c
 * with daemon/protocol.c): the input is the byte stream one client sends
 * over a real Unix socket. It goes out in pieces whose sizes, and the
 * interleaving of writes, event loop iterations (sd_event_run(ev, 0), never
 * blocking), reads and broadcasts, come from a hash of the input; so does
 * how the client reads (always, now and then, or only when the server is
 * idle) and whether it closes outright part way (one input in four) instead
 * of half-closing and reading until nothing moves. A second client that
 * sends nothing comes and goes meanwhile. At the end the client closes.
 *
 * Checked, with abort() on failure:
 * - every reply line is a JSON object with a boolean "ok", and is exactly
 *   the reply a model of the framing predicts, in order: one per non-blank
 *   line ('\n'-terminated, one '\r' before it stripped), one "request too
 *   long" for a line longer than REQUEST_MAX, the unterminated last line
 *   answered at half-close; so never more than the request lines + 1;
 * - event lines come only after the subscribe reply, in broadcast order;
 * - the loop never stalls: the server reads while the client cannot write,
 *   nothing dispatches forever without bytes moving, a client that did not
 *   subscribe is closed once answered (subscribed ones stay open by
 *   design), and every client that closed is gone from the server;
 * - the server drops the client only when its output could pass
 *   SERVER_OUTPUT_MAX.
 *
 * The request handler echoes the snapshot name; a name starting with '!'
 * gets NULL (the "internal error" path), one starting with '*' a reply of
 * BIG_PAD more bytes, so that output backs up and the drop can be reached.
 * tests/fuzz/run-fuzz runs it.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The server's serialisation (daemon/server.c, client_queue_json). */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define BIG_PAD (16U << 10)
#define EVENT_MAX 64 /* bytes of one broadcast event line, at most */
#define STALL_MAX 1000 /* iterations in a row that dispatch but move nothing */
#define IDLE_END 2 /* iterations in a row with nothing at all: done */
#define ITER_MAX (1UL << 22)

static int listen_fd = -1;
static struct sockaddr_un listen_addr;
static socklen_t listen_addr_len;
static char pad[BIG_PAD + 3]; /* "xxx...x" */

struct expect {
	uint64_t hash;
	size_t len;
};

/* The replies the server owes, in order. */
struct model {
	struct expect *v;
	size_t n, cap;
	uint64_t bytes; /* all of them, newlines included */
};

struct peer {
	int fd;
	char *buf; /* received, not yet a whole line */
	size_t len, cap;
	size_t replies;
	bool subscribed;
	bool eof;
	unsigned long events;
	unsigned long last_event;
	struct expect valid; /* the last reply that parsed, to skip repeats */
};

/* Not instrumented: it runs over every byte, and its branches are ours. */
__attribute__((noinline, no_sanitize("coverage")))
static uint64_t hash(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ len, w;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, b, len);
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

static uint64_t next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static json_object *handler(void *userdata, const struct request *req)
{
	json_object *o;

	if (req->snapshot && req->snapshot[0] == '!')
		return NULL;
	o = reply_ok();
	if (req->method == REQUEST_STATUS && req->snapshot) {
		json_object_object_add(o, "snapshot",
				       json_object_new_string(req->snapshot));
		if (req->snapshot[0] == '*') {
			/* A string serialised by memcpy, not byte by byte. */
			json_object *s = json_object_new_string("");

			json_object_set_serializer(
				s, json_object_userdata_to_json_string, pad,
				NULL);
			json_object_object_add(o, "pad", s);
		}
	} else {
		json_object_object_add(o, "snapshots", json_object_new_array());
	}
	return o;
}

static void expect_push(struct model *m, struct expect e)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		if (!m->v)
			abort();
	}
	m->v[m->n++] = e;
	m->bytes += e.len + 1;
}

static void expect_reply(struct model *m, json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_FLAGS);
	size_t len = strlen(s);

	expect_push(m, (struct expect){ .hash = hash(s, len), .len = len });
	json_object_put(reply);
}

/* What daemon/server.c's handle_line() answers, as the protocol says. */
static void expect_line(struct model *m, const char *line, size_t len)
{
	struct request req;
	const char *err = NULL;
	json_object *reply;

	if (len > REQUEST_MAX) {
		expect_reply(m, reply_error("request too long"));
		return;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	if (request_parse(line, len, &req, &err) < 0) {
		reply = reply_error(err);
	} else {
		if (req.method == REQUEST_SUBSCRIBE) {
			reply = reply_ok();
			json_object_object_add(reply, "subscribed",
					       json_object_new_boolean(1));
		} else {
			reply = handler(NULL, &req);
			if (!reply)
				reply = reply_error("internal error");
		}
		request_done(&req);
	}
	expect_reply(m, reply);
}

static void model_build(struct model *m, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	const char *prev = NULL;
	size_t len, prev_len = 0, before;
	bool prev_reply = false;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end; /* the unterminated last line */
		len = (size_t)(nl - p);
		/* Repeated lines (the big replies) are answered alike. */
		if (prev && len == prev_len && memcmp(p, prev, len) == 0) {
			if (prev_reply)
				expect_push(m, m->v[m->n - 1]);
			continue;
		}
		before = m->n;
		expect_line(m, p, len);
		prev_reply = m->n > before;
		prev = p;
		prev_len = len;
	}
}

static void check_line(struct peer *p, const struct model *m,
		       unsigned long broadcasts, const char *line, size_t len)
{
	static const char event_start[] = "{\"event\":";
	struct expect got = { .hash = hash(line, len), .len = len };
	bool event = len >= sizeof(event_start) - 1 &&
		     memcmp(line, event_start, sizeof(event_start) - 1) == 0;
	struct json_tokener *tok;
	json_object *o, *v;

	if (!event) {
		/* The next reply the model owes, byte for byte... */
		if (p->replies >= m->n || m->v[p->replies].len != len ||
		    m->v[p->replies].hash != got.hash)
			abort();
		p->replies++;
		/* ...and JSON with a boolean "ok" (checked below, once for
		 * a run of the same bytes: the big replies). */
		if (got.len == p->valid.len && got.hash == p->valid.hash)
			return;
	}
	tok = json_tokener_new();
	if (!tok)
		abort();
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object))
		abort();
	if (event) {
		/* {"event":"fuzz","n":N}, only after subscribing, in order */
		if (!p->subscribed ||
		    !json_object_object_get_ex(o, "n", &v) ||
		    !json_object_is_type(v, json_type_int))
			abort();
		if ((unsigned long)json_object_get_int64(v) > broadcasts ||
		    (unsigned long)json_object_get_int64(v) <= p->last_event)
			abort();
		p->last_event = (unsigned long)json_object_get_int64(v);
		p->events++;
	} else {
		if (!json_object_object_get_ex(o, "ok", &v) ||
		    !json_object_is_type(v, json_type_boolean))
			abort();
		if (json_object_object_get_ex(o, "subscribed", &v) &&
		    json_object_get_boolean(v))
			p->subscribed = true;
		p->valid = got;
	}
	json_object_put(o);
	json_tokener_free(tok);
}

/* Reads what is there without blocking; true when bytes came. */
static bool peer_read(struct peer *p, const struct model *m,
		      unsigned long broadcasts)
{
	bool moved = false;

	while (!p->eof) {
		char chunk[65536];
		ssize_t n = recv(p->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		size_t start = 0;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno != ECONNRESET)
				abort();
			n = 0; /* dropped with our bytes unread */
		}
		if (n == 0) {
			p->eof = true;
			break;
		}
		moved = true;
		if (p->len + (size_t)n > p->cap) {
			p->cap = 2 * (p->len + (size_t)n);
			p->buf = realloc(p->buf, p->cap);
			if (!p->buf)
				abort();
		}
		memcpy(p->buf + p->len, chunk, (size_t)n);
		p->len += (size_t)n;
		for (char *nl;
		     (nl = memchr(p->buf + start, '\n', p->len - start));
		     start = (size_t)(nl - p->buf) + 1)
			check_line(p, m, broadcasts, p->buf + start,
				   (size_t)(nl - p->buf) - start);
		memmove(p->buf, p->buf + start, p->len - start);
		p->len -= start;
	}
	return moved;
}

static void broadcast(struct server *srv, unsigned long n)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "event", json_object_new_string("fuzz"));
	json_object_object_add(e, "n", json_object_new_int64((int64_t)n));
	server_broadcast(srv, e);
	json_object_put(e);
}

/* Once per process, in the abstract namespace: nothing to clean up. */
static void listen_setup(void)
{
	int n;

	listen_addr.sun_family = AF_UNIX;
	n = snprintf(listen_addr.sun_path + 1, sizeof(listen_addr.sun_path) - 1,
		     "snapmgr-fuzz-server-%d", (int)getpid());
	listen_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      1 + (size_t)n);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 ||
	    bind(listen_fd, (struct sockaddr *)&listen_addr,
		 listen_addr_len) < 0 ||
	    listen(listen_fd, 16) < 0)
		abort();
	memset(pad, 'x', BIG_PAD + 2);
	pad[0] = pad[BIG_PAD + 1] = '"';
}

static size_t chunk_size(uint64_t r)
{
	static const size_t limit[] = { 8, 64, REQUEST_MAX + 100,
					5 * REQUEST_MAX };

	return 1 + (size_t)((r >> 8) % limit[r & 3]);
}

static int connect_client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    connect(fd, (struct sockaddr *)&listen_addr, listen_addr_len) < 0)
		abort();
	return fd;
}

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (const uint8_t *p = data, *end = data + size;
	     (p = memchr(p, '\n', (size_t)(end - p))); p++)
		n++;
	return n;
}

/* After half-closing and reading until nothing moved. */
static void conversation_end(const struct peer *p, const struct model *m,
			     const struct server *srv, unsigned long broadcasts,
			     bool write_dead)
{
	bool complete = p->replies == m->n && p->len == 0 && !write_dead;

	if (!complete || (p->eof && p->subscribed)) {
		/* Dropped: only near the limit. */
		if (!p->eof ||
		    m->bytes + broadcasts * EVENT_MAX <= SERVER_OUTPUT_MAX)
			abort();
	} else if (!p->eof && !p->subscribed) {
		abort(); /* answered and half-closed, but never closed */
	}
	/* Only a subscriber stays. */
	if (server_client_count(srv) != !p->eof)
		abort();
	if (p->events > broadcasts || p->replies > m->n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t rng = hash(data, size);
	/* Reads: every iteration, now and then, or only once all is sent. */
	unsigned read_mode = (unsigned)(next(&rng) % 3);
	/* One input in four closes the client outright after close_at bytes
	 * instead of half-closing and draining. */
	size_t close_at = next(&rng) % 4 ? SIZE_MAX : next(&rng) % (size + 1);
	/* A second client that sends nothing goes away at this iteration. */
	unsigned long other_close = next(&rng) % 64;
	struct model m = {};
	struct peer p = { .fd = -1 };
	sd_event *ev = NULL;
	struct server *srv = NULL;
	int other;
	size_t off = 0;
	bool shut = false, write_dead = false, closed = false;
	unsigned long broadcasts = 0, stall = 0, idle = 0;

	if (listen_fd < 0)
		listen_setup();
	model_build(&m, data, size);
	if (m.n > count_lines(data, size) + 1)
		abort();
	if (sd_event_new(&ev) < 0 ||
	    server_new(ev, listen_fd, (gid_t)-1, handler, NULL, &srv) < 0)
		abort();
	other = connect_client();
	p.fd = connect_client();
	for (int i = 0; server_client_count(srv) < 2; i++)
		if (i > 100 || sd_event_run(ev, 0) < 0)
			abort();

	for (unsigned long iter = 0;; iter++) {
		uint64_t r = next(&rng);
		bool moved = false, dispatched = false, rd;
		unsigned runs = (r >> 20) & 3;

		if (iter > ITER_MAX)
			abort();
		if (other >= 0 && iter == other_close) {
			close(other);
			other = -1;
		}
		if (!closed && off >= close_at) {
			close(p.fd);
			p.fd = -1;
			closed = moved = true;
			/* For a subscriber the server has not seen go yet. */
			broadcast(srv, ++broadcasts);
		}
		if (!closed && !write_dead && off < size) {
			size_t want = chunk_size(r);
			ssize_t n;

			if (want > size - off)
				want = size - off;
			n = send(p.fd, data + off, want,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				if (errno != EPIPE && errno != ECONNRESET)
					abort();
				write_dead = true; /* dropped */
			}
			if ((r >> 30) % 8 == 0)
				broadcast(srv, ++broadcasts);
		} else if (!closed && !write_dead && !shut) {
			if (shutdown(p.fd, SHUT_WR) < 0)
				abort();
			shut = moved = true;
			/* An event for a subscriber that stopped talking. */
			broadcast(srv, ++broadcasts);
		}
		if (!moved)
			runs = 4;
		for (unsigned k = 0; k < runs; k++) {
			int ret = sd_event_run(ev, 0);

			if (ret < 0)
				abort();
			if (ret > 0)
				dispatched = true;
		}
		rd = read_mode == 0 || (read_mode == 1 && (r >> 40) % 8 == 0) ||
		     (read_mode == 1 && (off == size || !moved)) ||
		     write_dead || (!moved && !dispatched);
		if (!closed && rd && peer_read(&p, &m, broadcasts))
			moved = true;
		if (moved) {
			stall = idle = 0;
		} else if (dispatched) {
			if (++stall > STALL_MAX)
				abort(); /* busy without moving a byte */
			idle = 0;
		} else if (!closed && !write_dead && off < size) {
			abort(); /* our bytes wait in its socket, it sleeps */
		} else if (++idle < IDLE_END) {
			continue;
		} else if (other >= 0) {
			close(other);
			other = -1;
			idle = 0;
		} else if (!closed) {
			/* Quiet now: the conversation is over; then we go. */
			conversation_end(&p, &m, srv, broadcasts, write_dead);
			close(p.fd);
			p.fd = -1;
			closed = true;
			idle = 0;
		} else {
			break;
		}
	}
	/* Every client that went away was noticed, subscribers too. */
	if (server_client_count(srv) != 0)
		abort();

	server_free(srv);
	sd_event_unref(ev);
	free(p.buf);
	free(m.v);
	return 0;
}
