/* Build tool: turns a data file into C source, `const char NAME[]` plus its
 * length, so bundled tables are compiled into the binary. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    FILE *in, *out;
    int c;
    unsigned long n = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: embed INPUT OUTPUT.c SYMBOL\n");
        return 2;
    }
    in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        fclose(in);
        return 1;
    }
    fprintf(out, "/* Generated from %s by tools/embed.c; do not edit. */\n", argv[1]);
    fprintf(out, "#include <stddef.h>\nconst char %s[] = {\n", argv[3]);
    while ((c = fgetc(in)) != EOF) {
        fprintf(out, "%d,%s", c, (++n % 24) ? "" : "\n");
    }
    fprintf(out, "0};\nconst size_t %s_len = %lu;\n", argv[3], n);
    fclose(in);
    return fclose(out) ? 1 : 0;
}
