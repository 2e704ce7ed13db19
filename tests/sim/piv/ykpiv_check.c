/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ykpiv_check: drives the test card through Debian's libykpiv 2.2 (and
 * its raw ykpiv_transfer_data) and prints one "key=value" line per step,
 * for the Python tests to assert on.
 *
 * usage: ykpiv_check READER STEP [ARGS]... [STEP [ARGS]...]...
 *   auth-3des HEXKEY        ykpiv_authenticate (libykpiv: 3DES only)
 *   raw-auth ALG            step 1 of GENERAL AUTHENTICATE 9B, print SW
 *   auth-aes ALG HEXKEY     mutual auth done by hand with AES-ECB
 *   single-auth ALG HEXKEY  single-sided challenge/response
 *   metadata P2             GET METADATA, print SW and data
 *   verify PIN              ykpiv_verify: rc and tries
 *   raw-verify PIN          VERIFY APDU, print SW
 *   generate SLOT ALG PINPOL TOUCHPOL   ykpiv_util_generate_key
 *   raw-generate SLOT ALG   GENERATE APDU, print SW
 *   sign SLOT ALG           sign a SHA-256 digest, check it with metadata
 *   put OBJ HEX / get OBJ   ykpiv_save_object / ykpiv_fetch_object
 *   raw INS P1 P2 HEX       any APDU ("-" for no data): SW and data
 *   set-protected           ykpiv_util_set_protected_mgm (random key)
 *   get-protected           ykpiv_util_get_protected_mgm
 *   config                  ykpiv_util_get_config
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <ykpiv.h>

static int
unhex(const char *s, unsigned char *out, size_t cap, size_t *len)
{
	size_t		n = strlen(s), i;
	unsigned int	v;

	if (n % 2 != 0 || n / 2 > cap)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return (-1);
		out[i] = (unsigned char)v;
	}
	*len = n / 2;
	return (0);
}

static void
puthex(const unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static unsigned long
num(const char *s)
{
	return (strtoul(s, NULL, 16));
}

static int
transfer(ykpiv_state *st, unsigned char ins, unsigned char p1,
    unsigned char p2, const unsigned char *in, size_t inlen,
    unsigned char *out, unsigned long *outlen, int *sw)
{
	unsigned char	templ[4] = { 0, ins, p1, p2 };
	ykpiv_rc	rc;

	rc = ykpiv_transfer_data(st, templ, in, (long)inlen, out, outlen, sw);
	if (rc != YKPIV_OK)
		printf("transfer rc=%s\n", ykpiv_strerror_name(rc));
	return (rc == YKPIV_OK ? 0 : -1);
}

static const EVP_CIPHER *
cipher(unsigned long alg)
{
	switch (alg) {
	case 0x03:
		return (EVP_des_ede3_ecb());
	case 0x08:
		return (EVP_aes_128_ecb());
	case 0x0a:
		return (EVP_aes_192_ecb());
	case 0x0c:
		return (EVP_aes_256_ecb());
	default:
		return (NULL);
	}
}

static int
ecb(unsigned long alg, const unsigned char *key, int enc,
    const unsigned char *in, unsigned char *out, int n)
{
	EVP_CIPHER_CTX	*ctx;
	int		 ol = 0, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL || cipher(alg) == NULL)
		return (-1);
	ok = EVP_CipherInit_ex(ctx, cipher(alg), NULL, key, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &ol, in, n) == 1 && ol == n;
	EVP_CIPHER_CTX_free(ctx);
	return (ok ? 0 : -1);
}

/* Mutual authentication by hand: what ykssh must do for AES keys. */
static int
auth_manual(ykpiv_state *st, unsigned long alg, const unsigned char *key)
{
	unsigned char	in[64], out[64], wit[16], chal[16], exp[16];
	unsigned long	outlen = sizeof(out);
	int		sw, bs = alg == 0x03 ? 8 : 16;
	static const unsigned char step1[] = { 0x7c, 0x02, 0x80, 0x00 };

	if (transfer(st, 0x87, (unsigned char)alg, 0x9b, step1, sizeof(step1),
	    out, &outlen, &sw) != 0)
		return (-1);
	if (sw != 0x9000 || outlen != (unsigned long)bs + 4 ||
	    out[0] != 0x7c || out[2] != 0x80 || out[3] != bs) {
		printf("auth-manual step1 sw=%04x\n", sw);
		return (-1);
	}
	if (ecb(alg, key, 0, out + 4, wit, bs) != 0 ||
	    RAND_bytes(chal, bs) != 1 || ecb(alg, key, 1, chal, exp, bs) != 0)
		return (-1);
	in[0] = 0x7c;
	in[1] = (unsigned char)(2 * bs + 4);
	in[2] = 0x80;
	in[3] = (unsigned char)bs;
	memcpy(in + 4, wit, (size_t)bs);
	in[4 + bs] = 0x81;
	in[5 + bs] = (unsigned char)bs;
	memcpy(in + 6 + bs, chal, (size_t)bs);
	outlen = sizeof(out);
	if (transfer(st, 0x87, (unsigned char)alg, 0x9b, in,
	    (size_t)(2 * bs + 6), out, &outlen, &sw) != 0)
		return (-1);
	if (sw != 0x9000) {
		printf("auth-manual step2 sw=%04x\n", sw);
		return (-1);
	}
	if (outlen != (unsigned long)bs + 4 || out[2] != 0x82 ||
	    memcmp(out + 4, exp, (size_t)bs) != 0) {
		printf("auth-manual card-cryptogram=bad\n");
		return (-1);
	}
	return (0);
}

static int
auth_single(ykpiv_state *st, unsigned long alg, const unsigned char *key)
{
	unsigned char	in[64], out[64];
	unsigned long	outlen = sizeof(out);
	int		sw, bs = alg == 0x03 ? 8 : 16;
	static const unsigned char step1[] = { 0x7c, 0x02, 0x81, 0x00 };

	if (transfer(st, 0x87, (unsigned char)alg, 0x9b, step1, sizeof(step1),
	    out, &outlen, &sw) != 0 || sw != 0x9000 ||
	    outlen != (unsigned long)bs + 4 || out[2] != 0x81)
		return (-1);
	in[0] = 0x7c;
	in[1] = (unsigned char)(bs + 2);
	in[2] = 0x82;
	in[3] = (unsigned char)bs;
	if (ecb(alg, key, 1, out + 4, in + 4, bs) != 0)
		return (-1);
	outlen = sizeof(out);
	if (transfer(st, 0x87, (unsigned char)alg, 0x9b, in, (size_t)bs + 4,
	    out, &outlen, &sw) != 0)
		return (-1);
	printf("single-auth step2 sw=%04x\n", sw);
	return (sw == 0x9000 ? 0 : -1);
}

/* Public key from GET METADATA tag 04 (EC only). */
static EVP_PKEY *
ec_pub(ykpiv_state *st, unsigned char slot, unsigned char alg)
{
	unsigned char	 out[1024], *p;
	unsigned long	 outlen = sizeof(out);
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pk = NULL;
	size_t		 i, plen;
	int		 sw;

	if (transfer(st, 0xf7, 0, slot, NULL, 0, out, &outlen, &sw) != 0 ||
	    sw != 0x9000)
		return (NULL);
	for (i = 0, p = NULL; i + 1 < outlen; i += 2 + out[i + 1])
		if (out[i] == 0x04 && i + 4 < outlen && out[i + 2] == 0x86) {
			p = out + i + 4;
			plen = out[i + 3];
			break;
		}
	if (p == NULL)
		return (NULL);
	if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    alg == 0x14 ? "P-384" : "P-256", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, p,
	    plen) == 1 && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_BLD_free(bld);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	return (pk);
}

static void
sign(ykpiv_state *st, unsigned char slot, unsigned char alg)
{
	unsigned char	 in[64], out[600], dig[32];
	unsigned long	 outlen = sizeof(out);
	EVP_PKEY	*pk = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	int		 sw, valid = 0;

	(void)RAND_bytes(dig, sizeof(dig));
	in[0] = 0x7c;
	in[1] = 2 + 2 + 32;
	in[2] = 0x82;
	in[3] = 0x00;
	in[4] = 0x81;
	in[5] = 32;
	memcpy(in + 6, dig, 32);
	if (transfer(st, 0x87, alg, slot, in, 38, out, &outlen, &sw) != 0)
		return;
	if (sw == 0x9000 && outlen > 4 && (pk = ec_pub(st, slot, alg)) &&
	    (ctx = EVP_PKEY_CTX_new(pk, NULL)) != NULL &&
	    EVP_PKEY_verify_init(ctx) == 1)
		valid = EVP_PKEY_verify(ctx, out + 4, outlen - 4, dig, 32) == 1;
	printf("sign %02x sw=%04x valid=%d\n", slot, sw, valid);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
}

int
main(int argc, char **argv)
{
	ykpiv_state	*st = NULL;
	ykpiv_rc	 rc;
	unsigned char	 key[32], buf[4096], pin[8], *pt = NULL;
	unsigned long	 outlen;
	size_t		 kl, len, ptlen = 0;
	int		 i, sw, tries;

	if (argc < 3)
		return (2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = ykpiv_init(&st, 0)) != YKPIV_OK ||
	    (rc = ykpiv_connect(st, argv[1])) != YKPIV_OK) {
		printf("connect rc=%s\n", ykpiv_strerror_name(rc));
		if (st != NULL)
			(void)ykpiv_done(st);
		return (1);
	}
	for (i = 2; i < argc; i++) {
		const char *s = argv[i];
#define NEED(n) do { if (i + (n) >= argc) return (2); } while (0)
		if (strcmp(s, "auth-3des") == 0) {
			NEED(1);
			if (unhex(argv[++i], key, sizeof(key), &kl) != 0)
				return (2);
			rc = ykpiv_authenticate(st, key);
			printf("auth-3des rc=%s\n", ykpiv_strerror_name(rc));
		} else if (strcmp(s, "raw-auth") == 0) {
			static const unsigned char s1[] = {
				0x7c, 0x02, 0x80, 0x00 };
			NEED(1);
			outlen = sizeof(buf);
			if (transfer(st, 0x87, (unsigned char)num(argv[++i]),
			    0x9b, s1, sizeof(s1), buf, &outlen, &sw) == 0)
				printf("raw-auth sw=%04x\n", sw);
		} else if (strcmp(s, "auth-aes") == 0 ||
		    strcmp(s, "single-auth") == 0) {
			unsigned long alg;
			NEED(2);
			alg = num(argv[i + 1]);
			if (unhex(argv[i + 2], key, sizeof(key), &kl) != 0)
				return (2);
			printf("%s rc=%s\n", s, (s[0] == 'a' ?
			    auth_manual(st, alg, key) :
			    auth_single(st, alg, key)) == 0 ? "ok" : "fail");
			i += 2;
		} else if (strcmp(s, "metadata") == 0) {
			NEED(1);
			outlen = sizeof(buf);
			if (transfer(st, 0xf7, 0, (unsigned char)num(argv[++i]),
			    NULL, 0, buf, &outlen, &sw) == 0) {
				printf("metadata %s sw=%04x data=", argv[i],
				    sw);
				puthex(buf, outlen);
				printf("\n");
			}
		} else if (strcmp(s, "verify") == 0) {
			NEED(1);
			tries = -1;
			rc = ykpiv_verify(st, argv[++i], &tries);
			printf("verify rc=%s tries=%d\n",
			    ykpiv_strerror_name(rc), tries);
		} else if (strcmp(s, "raw-verify") == 0) {
			NEED(1);
			memset(pin, 0xff, sizeof(pin));
			len = strlen(argv[++i]);
			memcpy(pin, argv[i], len > 8 ? 8 : len);
			outlen = sizeof(buf);
			if (transfer(st, 0x20, 0, 0x80, pin, 8, buf, &outlen,
			    &sw) == 0)
				printf("raw-verify sw=%04x\n", sw);
		} else if (strcmp(s, "generate") == 0) {
			NEED(4);
			rc = ykpiv_util_generate_key(st,
			    (uint8_t)num(argv[i + 1]),
			    (uint8_t)num(argv[i + 2]),
			    (uint8_t)num(argv[i + 3]),
			    (uint8_t)num(argv[i + 4]), NULL, NULL, NULL, NULL,
			    &pt, &ptlen);
			printf("generate %s rc=%s point=", argv[i + 1],
			    ykpiv_strerror_name(rc));
			if (rc == YKPIV_OK)
				puthex(pt, ptlen);
			printf("\n");
			(void)ykpiv_util_free(st, pt);
			pt = NULL;
			i += 4;
		} else if (strcmp(s, "raw-generate") == 0) {
			unsigned char g[5] = { 0xac, 0x03, 0x80, 0x01, 0 };
			NEED(2);
			g[4] = (unsigned char)num(argv[i + 2]);
			outlen = sizeof(buf);
			if (transfer(st, 0x47, 0, (unsigned char)num(argv[i +
			    1]), g, sizeof(g), buf, &outlen, &sw) == 0)
				printf("raw-generate sw=%04x len=%lu\n", sw,
				    outlen);
			i += 2;
		} else if (strcmp(s, "sign") == 0) {
			NEED(2);
			sign(st, (unsigned char)num(argv[i + 1]),
			    (unsigned char)num(argv[i + 2]));
			i += 2;
		} else if (strcmp(s, "put") == 0) {
			NEED(2);
			if (unhex(argv[i + 2], buf, sizeof(buf), &len) != 0)
				return (2);
			rc = ykpiv_save_object(st, (int)num(argv[i + 1]), buf,
			    len);
			printf("put rc=%s\n", ykpiv_strerror_name(rc));
			i += 2;
		} else if (strcmp(s, "get") == 0) {
			NEED(1);
			outlen = sizeof(buf);
			rc = ykpiv_fetch_object(st, (int)num(argv[++i]), buf,
			    &outlen);
			printf("get rc=%s data=", ykpiv_strerror_name(rc));
			if (rc == YKPIV_OK)
				puthex(buf, outlen);
			printf("\n");
		} else if (strcmp(s, "set-protected") == 0 ||
		    strcmp(s, "get-protected") == 0) {
			ykpiv_mgm	mgm;

			memset(&mgm, 0, sizeof(mgm));
			rc = s[0] == 's' ? ykpiv_util_set_protected_mgm(st,
			    &mgm) : ykpiv_util_get_protected_mgm(st, &mgm);
			printf("%s rc=%s key=", s, ykpiv_strerror_name(rc));
			puthex(mgm.data, sizeof(mgm.data));
			printf("\n");
		} else if (strcmp(s, "config") == 0) {
			ykpiv_config	cfg;

			memset(&cfg, 0, sizeof(cfg));
			rc = ykpiv_util_get_config(st, &cfg);
			printf("config rc=%s mgm_type=%d puk_blocked=%d\n",
			    ykpiv_strerror_name(rc), (int)cfg.mgm_type,
			    cfg.puk_blocked);
		} else if (strcmp(s, "raw") == 0) {
			NEED(4);
			len = 0;
			if (strcmp(argv[i + 4], "-") != 0 &&
			    unhex(argv[i + 4], buf, sizeof(buf), &len) != 0)
				return (2);
			outlen = sizeof(buf);
			if (transfer(st, (unsigned char)num(argv[i + 1]),
			    (unsigned char)num(argv[i + 2]),
			    (unsigned char)num(argv[i + 3]), buf, len, buf,
			    &outlen, &sw) == 0) {
				printf("raw %s sw=%04x data=", argv[i + 1], sw);
				puthex(buf, outlen);
				printf("\n");
			}
			i += 4;
		} else {
			fprintf(stderr, "unknown step %s\n", s);
			return (2);
		}
	}
	(void)ykpiv_done(st);
	return (0);
}
