/*
 * replay — runs a libFuzzer target over files given on the command line,
 * without libFuzzer: `make check` builds every tests/fuzz/fuzz_*.c with this
 * driver under ASan/UBSan and replays the seed corpus, so a crash found once
 * stays fixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		long len;

		if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET) != 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			if (fp != NULL)
				fclose(fp);
			return 2;
		}
		buf = malloc((size_t)len + 1);
		if (buf == NULL || fread(buf, 1, (size_t)len, fp) != (size_t)len) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			free(buf);
			fclose(fp);
			return 2;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
