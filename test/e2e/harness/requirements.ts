import { missingRequirement } from "../../support/requirements.ts";

/** Why the harness cannot build its topology here (root and tools), or undefined when it can. */
export function topologyRequirement(extraCommands: readonly string[] = []): string | undefined {
  return missingRequirement({ root: true, commands: ["ip", "sysctl", ...extraCommands] });
}
