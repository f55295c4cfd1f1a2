/*
 * standalone_main.c - a main() for the libFuzzer harnesses in builds without
 * libFuzzer (the normal gcc ASan build the test suite runs on).  It runs
 * LLVMFuzzerTestOneInput over every regular file of the corpus
 * directories (or single files) named on the command line, so the seed
 * corpus and every crash reproducer replay on each test run.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define FUZZ_MAX_INPUT (1u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	/* a copy of exactly n bytes, so ASan sees reads past the input */
	buf = malloc(FUZZ_MAX_INPUT);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	buf = realloc(buf, n ? n : 1);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order (a stable replay order). */
static int run_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, i;
	int rc = 0;

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char **nn;

		if (e->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (nn == NULL || (nn[n] = strdup(e->d_name)) == NULL) {
			names = nn != NULL ? nn : names;
			rc = -1;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) != 0)
				rc = -1;
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int i, count = 0, rc = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) != 0)
				rc = 1;
		} else {
			if (run_file(argv[i]) != 0)
				rc = 1;
			count++;
		}
	}
	printf("%s: %d inputs replayed\n", argv[0], count);
	/* an empty corpus would make the test pass without testing */
	return rc != 0 || count == 0;
}
