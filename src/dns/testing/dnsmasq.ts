import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { askUdp } from "./ask-udp.ts";

/** A dnsmasq started by a test or benchmark. */
export interface Dnsmasq {
  readonly port: number;
  readonly pid: number;
  /** Kills it (by PID) and removes its files. */
  close(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Starts Debian's dnsmasq on a free loopback port, answering from `hosts` (hosts-file text) and
 * from nothing else: no resolv.conf, no /etc/hosts, no upstream. Names under `localDomains` that
 * the file lacks get NXDOMAIN (rather than REFUSED for want of an upstream). Resolves once it
 * answers `probeName`.
 */
export async function startDnsmasq(options: {
  readonly hosts: string;
  readonly probeName: string;
  readonly localDomains?: readonly string[];
  readonly extraArgs?: readonly string[];
}): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), "kp-dnsmasq-"));
  // dnsmasq drops to user nobody and must still be able to read its hosts file.
  chmodSync(dir, 0o755);
  const hostsFile = join(dir, "hosts");
  writeFileSync(hostsFile, options.hosts, { mode: 0o644 });
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort();
    const child: ChildProcess = spawn(
      "dnsmasq",
      [
        "--no-resolv",
        "--no-hosts",
        `--addn-hosts=${hostsFile}`,
        `--port=${port}`,
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--pid-file=",
        "--log-facility=-",
        ...(options.localDomains ?? []).map((d) => `--local=/${d}/`),
        ...(options.extraArgs ?? []),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const close = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, "SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      const r = await askUdp("127.0.0.1", port, options.probeName, "A", 200);
      if (r.rcode === "NOERROR") return { port, pid: child.pid ?? 0, close };
    }
    lastError = stderr;
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`Cannot start dnsmasq on a free loopback port: ${lastError.trim() || "it never answered"}`);
}
