/* A program built against an installed pincurl: parses a pin and prints the version. */
#include <pincurl/pincurl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : "";
    pincurl_pin pin;
    pincurl_status st = pincurl_pin_parse(text, strlen(text), &pin);
    printf("pincurl %s: %s\n", pincurl_version(), pincurl_status_name(st));
    return st == PINCURL_OK ? 0 : 1;
}
