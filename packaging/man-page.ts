/**
 * logship(1), made at build time from the executable's own help: `logship
 * --help`, then `logship COMMAND --help` for every command it lists (and
 * their subcommands, `log dump`), each as a section of preformatted text in
 * a plain troff page. The help text stays the one reference; the page is
 * how `man logship` reaches it on a host.
 */
import { execFileSync } from "node:child_process";

/** The help of `binary [...command] --help` (commander wraps at 80 columns on a pipe); roles run without their restart. */
function help(binary: string, command: readonly string[]): string {
  return execFileSync(binary, [...command, "--help"], { encoding: "utf8", env: { ...process.env, LOGSHIP_ROLE_OPTIONS: "off" }, timeout: 30_000 });
}

/** The command names under "Commands:" in commander's help, without `help`. */
export function listedCommands(helpText: string): string[] {
  const section = helpText.split(/^Commands:\n/m)[1];
  if (section === undefined) return [];
  const names: string[] = [];
  for (const line of section.split("\n")) {
    const match = /^ {2}([a-z][a-z-]*)\b/.exec(line);
    if (match?.[1] !== undefined && match[1] !== "help") names.push(match[1]);
  }
  return names;
}

/** Text shown as it is (inside .nf/.fi): backslashes and hyphens escaped, a line starting with . or ' kept from being a request, and characters past ASCII as \[uXXXX] (troff reads bytes unless preconv runs first). */
export function troffLiteral(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => line.replaceAll("\\", "\\e").replaceAll("-", "\\-").replace(/^([.'])/, "\\&$1").replace(/[^\x00-\x7f]/gu, (character) => `\\[u${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}]`))
    .join("\n");
}

export function manPage(binary: string, version: string, date: string): string {
  const sections: string[] = [];
  const visit = (command: string[]): void => {
    const text = help(binary, command);
    if (command.length > 0) sections.push(`.SS "logship ${command.join(" ")}"\n.nf\n${troffLiteral(text)}\n.fi`);
    for (const name of listedCommands(text)) visit([...command, name]);
  };
  const top = help(binary, []);
  visit([]);
  return `.TH LOGSHIP 1 "${date}" "logship ${version}" "User Commands"
.SH NAME
logship \\- log shipper: agent, collector, search
.SH SYNOPSIS
.B logship
.I command
.RI [ options ]
.SH DESCRIPTION
One executable for every role of logship: the agent tails files on a host and
ships their lines to collectors, the collector stores, indexes and archives them,
and the other commands search, inspect and validate. Each section below is the
output of \\fBlogship\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR, the reference.
.PP
.nf
${troffLiteral(top)}
.fi
.SH COMMANDS
${sections.join("\n")}
.SH EXIT STATUS
0 ok, 1 runtime failure, 2 usage or config error.
.SH ENVIRONMENT
.TP
.B LOGSHIP_TOKEN
a token for any command.
.TP
.B LOGSHIP_ROLE_OPTIONS
set to \\fBoff\\fR: agent and collector run on exactly the NODE_OPTIONS given, without their role's options.
.SH FILES
.TP
.I /etc/logship/agent.yaml
the agent's config (logship\\-agent.service)
.TP
.I /etc/logship/collector.yaml
the collector's config (logship\\-collector.service)
.TP
.I /etc/default/logship
the services' environment: the tokens the configs read as \\fB${"$"}{NAME}\\fR
.TP
.I /var/lib/logship
state: agent/ (checkpoints, spool), collector/ (log, index)
.SH SEE ALSO
.BR systemctl (1),
.BR journalctl (1)
`;
}
