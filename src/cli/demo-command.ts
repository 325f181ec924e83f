import { Command } from "commander";
import { ProxyError } from "../errors.ts";

/**
 * `kproxy demo`: three loopback backends, the embedded API server and kproxy in userspace mode,
 * with the manifests from `examples/`; needs no privilege and changes nothing on the host.
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "Start a self-contained demo: three web backends, the embedded API server and kproxy in userspace mode (no privilege needed)",
    )
    .action(() => {
      throw new ProxyError("KPROXY_MODE_UNAVAILABLE", "Cannot start the demo yet: it is being built");
    });
}
