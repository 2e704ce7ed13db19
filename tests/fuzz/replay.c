/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Replay driver for builds without libFuzzer: feeds every file named on the
 * command line (directories are walked one level deep) to the harness's
 * LLVMFuzzerTestOneInput().  Used so the corpus runs in every build,
 * including the ASan+UBSan one, without clang.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *data = NULL;
	size_t len = 0, cap = 0, n;
	int r = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(data, cap)) == NULL)
				goto out;
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		perror(path);
		goto out;
	}
	LLVMFuzzerTestOneInput(data, len);
	r = 0;
out:
	free(data);
	fclose(f);
	return r;
}

static int
replay_path(const char *path, unsigned *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[4096];
	int r = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub)) {
			r = -1;
			continue;
		}
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (replay_file(sub) != 0)
				r = -1;
		}
	}
	closedir(d);
	return r;
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int i, r = 0;

	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) != 0)
			r = 1;
	if (count == 0) {
		fprintf(stderr, "replay: no input files\n");
		return 1;
	}
	printf("replay: %u inputs ran\n", count);
	return r;
}
