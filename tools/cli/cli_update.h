/* `pincurl policy keygen|sign|verify|show`: the signing side of signed policy updates
 * (docs/updates.md). Built only on the public API and wolfCrypt. */
#ifndef PINCURL_CLI_UPDATE_H
#define PINCURL_CLI_UPDATE_H

/* Runs one of the subcommands "keygen", "sign", "verify", "show". argv[0] is the
 * subcommand's name, argv[1..argc-1] its arguments. Returns the process exit code:
 * 0 success, 2 usage, 23 write error, 26 read error, 110 policy document invalid,
 * 114 internal error, 120 bundle rejected by verify (or malformed for show), 121 key file
 * invalid. Messages go to stderr, results to stdout. */
int pincurl_cli_policy_update(const char *subcommand, int argc, char **argv);

#endif
