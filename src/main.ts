#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { apiserverCommand } from "./cli/apiserver-command.ts";
import { cleanupCommand } from "./cli/cleanup-command.ts";
import { demoCommand } from "./cli/demo-command.ts";
import { dnsCommand } from "./cli/dns-command.ts";
import { renderCommand } from "./cli/render-command.ts";
import { runCommand } from "./cli/run-command.ts";
import { errorMessage, UsageError, ValidationError } from "./errors.ts";

/** Exit codes (DESIGN.md): 0 ok, 1 runtime failure, 2 bad usage or invalid configuration. */
const exitFailure = 1;
const exitUsage = 2;

function packageVersion(): string {
  // `../package.json` from both `src/main.ts` and the compiled `dist/main.js`.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The `kproxy` program with every command. */
export function buildProgram(): Command {
  const program = new Command("kproxy")
    .description(
      "kproxy: the Kubernetes Service proxy (kube-proxy compatible), with an embedded API server and cluster DNS",
    )
    .version(packageVersion(), "--version", "print the version")
    .addCommand(runCommand())
    .addCommand(renderCommand())
    .addCommand(cleanupCommand())
    .addCommand(apiserverCommand())
    .addCommand(dnsCommand())
    .addCommand(demoCommand());
  // Commands never exit: commander throws instead, and main decides the exit code.
  const override = (cmd: Command): void => {
    cmd.exitOverride().showHelpAfterError("(run with --help for usage)");
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs the command line and returns the exit code. The only place that decides how kproxy exits. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version output end with exitCode 0; commander already printed its message.
      return err.exitCode === 0 ? 0 : exitUsage;
    }
    if (err instanceof ValidationError || err instanceof UsageError) {
      process.stderr.write(`kproxy: ${err.message}\n`);
      return exitUsage;
    }
    process.stderr.write(`kproxy: ${errorMessage(err)}\n`);
    return exitFailure;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv));
}
