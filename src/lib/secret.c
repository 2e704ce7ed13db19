/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ykssh/secret.h"

struct ykssh_secret {
	char	*buf;		/* mapping of maplen bytes */
	size_t	 maplen;
	size_t	 max_len;
	size_t	 len;
};

void
ykssh_freezero(void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, len);
	free(ptr);
}

void
ykssh_free_secret_string(char *s)
{
	if (s == NULL)
		return;
	ykssh_freezero(s, strlen(s));
}

int
ykssh_timingsafe_bcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) != 0;
}

struct ykssh_secret *
ykssh_secret_new(size_t max_len)
{
	struct ykssh_secret *s;
	long pagesz;
	size_t pg;
	void *p;

	if (max_len == 0 || max_len > 64 * 1024)
		return NULL;
	if ((pagesz = sysconf(_SC_PAGESIZE)) <= 0)
		pagesz = 4096;
	pg = (size_t)pagesz;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->max_len = max_len;
	s->maplen = (max_len + 1 + pg - 1) / pg * pg;
	p = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		free(s);
		return NULL;
	}
	s->buf = p;
	/* Best effort: keep the page out of core dumps and swap. */
	(void)madvise(s->buf, s->maplen, MADV_DONTDUMP);
	(void)mlock(s->buf, s->maplen);
	return s;
}

void
ykssh_secret_free(struct ykssh_secret *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->buf, s->maplen);
	(void)munlock(s->buf, s->maplen);
	(void)munmap(s->buf, s->maplen);
	free(s);
}

void
ykssh_secret_reset(struct ykssh_secret *s)
{
	explicit_bzero(s->buf, s->maplen);
	s->len = 0;
}

int
ykssh_secret_set(struct ykssh_secret *s, const void *p, size_t len)
{
	ykssh_secret_reset(s);
	if (len > s->max_len)
		return YKSSH_ERR_NO_BUFFER_SPACE;
	if (memchr(p, '\0', len) != NULL)
		return YKSSH_ERR_INVALID_FORMAT;
	memcpy(s->buf, p, len);
	s->buf[len] = '\0';
	s->len = len;
	return 0;
}

const char *
ykssh_secret_str(const struct ykssh_secret *s)
{
	return s->buf;
}

size_t
ykssh_secret_len(const struct ykssh_secret *s)
{
	return s->len;
}

size_t
ykssh_secret_max_len(const struct ykssh_secret *s)
{
	return s->max_len;
}

char *
ykssh_secret_buf(struct ykssh_secret *s)
{
	return s->buf;
}

void
ykssh_secret_sync(struct ykssh_secret *s)
{
	s->buf[s->max_len] = '\0';
	s->len = strlen(s->buf);
}
