/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small line-based unified diff (for --dry-run): common prefix and suffix
 * are trimmed, the middle is diffed with Myers' O((N+M)D) greedy algorithm
 * (falling back to "all removed, all added" when D is large), and changes
 * are grouped into hunks with three lines of context, as diff -u does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshconfig-internal.h"

#define CONTEXT	3
#define MAX_D	1000

struct dline {
	const char	*p;
	size_t		 len;	/* with the newline, if any */
};

struct side {
	struct dline	*l;
	size_t		 n;
};

static int
split_lines(const char *s, size_t len, struct side *sd)
{
	const char *p = s, *end = s + len, *nl;
	size_t cap = 0;
	struct dline *v;

	sd->l = NULL;
	sd->n = 0;
	while (p < end) {
		if (sd->n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((v = reallocarray(sd->l, cap, sizeof(*v))) == NULL)
				return -1;
			sd->l = v;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl != NULL ? nl + 1 : end;
		sd->l[sd->n].p = p;
		sd->l[sd->n].len = (size_t)(nl - p);
		sd->n++;
		p = nl;
	}
	return 0;
}

static int
eq(const struct dline *a, const struct dline *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/*
 * ops gets one of '=', '-', '+' per step of the edit script from
 * a[0..n) to b[0..m); returns the number of ops, or (size_t)-1 when D is
 * over MAX_D or memory runs out.
 */
static size_t
myers(const struct dline *a, size_t n, const struct dline *b, size_t m,
    char *ops)
{
	long N = (long)n, M = (long)m, max, d, k, x, y, D = -1, px, py, pk;
	long mx, my;
	long *v = NULL, *trace = NULL, *t;
	size_t nops = 0, i, j, r = (size_t)-1;
	char *rev = NULL;

	max = N + M < MAX_D ? N + M : MAX_D;
	if ((v = calloc((size_t)(2 * max + 3), sizeof(*v))) == NULL ||
	    (trace = calloc((size_t)((max + 1) * (max + 1)),
	    sizeof(*trace))) == NULL)
		goto out;
#define V(kk)	v[(kk) + max + 1]
	for (d = 0; d <= max; d++) {
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && V(k - 1) < V(k + 1)))
				x = V(k + 1);
			else
				x = V(k - 1) + 1;
			y = x - k;
			while (x < N && y < M && eq(&a[x], &b[y])) {
				x++;
				y++;
			}
			V(k) = x;
		}
		t = trace + d * d;
		for (k = -d; k <= d; k++)
			t[k + d] = V(k);
		for (k = -d; k <= d; k += 2)
			if (V(k) >= N && V(k) - k >= M) {
				D = d;
				break;
			}
		if (D != -1)
			break;
	}
	if (D == -1)
		goto out;
	if ((rev = malloc(n + m + 1)) == NULL)
		goto out;
	x = N;
	y = M;
	for (d = D; d > 0; d--) {
		t = trace + (d - 1) * (d - 1);
		k = x - y;
#define TV(kk)	t[(kk) + d - 1]
		if (k == -d || (k != d && TV(k - 1) < TV(k + 1)))
			pk = k + 1;
		else
			pk = k - 1;
		px = TV(pk);
#undef TV
		py = px - pk;
		/* The move lands on (mx, my); a snake leads on to (x, y). */
		mx = pk == k + 1 ? px : px + 1;
		my = pk == k + 1 ? py + 1 : py;
		while (x > mx && y > my) {
			rev[nops++] = '=';
			x--;
			y--;
		}
		rev[nops++] = pk == k + 1 ? '+' : '-';
		x = px;
		y = py;
	}
	while (x > 0 && y > 0) {
		rev[nops++] = '=';
		x--;
		y--;
	}
	for (i = 0, j = nops; i < nops; i++)
		ops[i] = rev[--j];
	r = nops;
#undef V
out:
	free(rev);
	free(v);
	free(trace);
	return r;
}

static void
emit(FILE *f, char c, const struct dline *l)
{
	fputc(c, f);
	fwrite(l->p, 1, l->len, f);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", f);
}

struct ykssh_err *
ykssh_sc_unified_diff(const char *a, size_t alen, const char *b, size_t blen,
    const char *aname, const char *bname, char **outp)
{
	struct ykssh_err *e = NULL;
	struct side A = { 0 }, B = { 0 };
	char *ops = NULL, *buf = NULL;
	size_t pre = 0, suf = 0, na, nb, nops, i, j, ia, ib, h, end, k;
	size_t sa, sb, ca, cb, ta, tb, bufsz = 0;
	FILE *f = NULL;

	*outp = NULL;
	if (split_lines(a, alen, &A) == -1 || split_lines(b, blen, &B) == -1)
		goto nomem;
	while (pre < A.n && pre < B.n && eq(&A.l[pre], &B.l[pre]))
		pre++;
	while (suf < A.n - pre && suf < B.n - pre &&
	    eq(&A.l[A.n - 1 - suf], &B.l[B.n - 1 - suf]))
		suf++;
	na = A.n - pre - suf;
	nb = B.n - pre - suf;
	if ((f = open_memstream(&buf, &bufsz)) == NULL)
		goto nomem;
	if (na == 0 && nb == 0)
		goto done;
	/* Full script: prefix '=', middle, suffix '='. */
	if ((ops = malloc(A.n + B.n + 1)) == NULL)
		goto nomem;
	memset(ops, '=', pre);
	nops = myers(A.l + pre, na, B.l + pre, nb, ops + pre);
	if (nops == (size_t)-1) {
		memset(ops + pre, '-', na);
		memset(ops + pre + na, '+', nb);
		nops = na + nb;
	}
	memset(ops + pre + nops, '=', suf);
	nops += pre + suf;
	fprintf(f, "--- %s\n+++ %s\n", aname, bname);
	/* Walk the script; each hunk spans changes with <= 2*CONTEXT gap. */
	ia = ib = 0;
	for (i = 0; i < nops;) {
		if (ops[i] == '=') {
			i++;
			ia++;
			ib++;
			continue;
		}
		/* Hunk start: back up CONTEXT equal lines. */
		h = i;
		k = 0;
		while (h > 0 && k < CONTEXT && ops[h - 1] == '=') {
			h--;
			k++;
		}
		sa = ia - k;
		sb = ib - k;
		/* Hunk end: stop after CONTEXT equals with no change soon. */
		for (end = i; end < nops;) {
			if (ops[end] != '=') {
				end++;
				continue;
			}
			for (j = end; j < nops && ops[j] == '='; j++)
				;
			if (j == nops || j - end > 2 * CONTEXT) {
				end += j - end < CONTEXT ? j - end : CONTEXT;
				break;
			}
			end = j;
		}
		ca = cb = 0;
		for (j = h; j < end; j++) {
			ca += ops[j] != '+';
			cb += ops[j] != '-';
		}
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ca ? sa + 1 : sa, ca,
		    cb ? sb + 1 : sb, cb);
		ta = sa;
		tb = sb;
		for (j = h; j < end; j++) {
			if (ops[j] == '=') {
				emit(f, ' ', &A.l[ta]);
				ta++;
				tb++;
			} else if (ops[j] == '-')
				emit(f, '-', &A.l[ta++]);
			else
				emit(f, '+', &B.l[tb++]);
		}
		ia = ta;
		ib = tb;
		i = end;
	}
done:
	if (fclose(f) != 0) {
		f = NULL;
		goto nomem;
	}
	f = NULL;
	*outp = buf;
	buf = NULL; /* transferred */
	goto out;
nomem:
	e = YKSSH_ERR(YKSSH_ERR_NOMEM, "out of memory");
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	free(ops);
	free(A.l);
	free(B.l);
	return e;
}
