import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalRule } from "./canonical-rule.ts";

// Pairs of (what kproxy writes, what iptables-save prints), taken from both back ends.
const same: [string, string][] = [
  [
    `-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O`,
    `-d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O`,
  ],
  ["-j MARK --or-mark 0x4000", "-j MARK --set-xmark 0x4000/0x4000"],
  ["-j MARK --xor-mark 0x4000", "-j MARK --set-xmark 0x4000/0x0"],
  ["-m mark ! --mark 0x004000/0x004000 -j RETURN", "-m mark ! --mark 0x4000/0x4000 -j RETURN"],
  [
    "-m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-X",
    "-m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X",
  ],
  [
    "-m recent --name KUBE-SEP-X --rcheck --seconds 10800 --reap -j KUBE-SEP-X",
    "-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource -j KUBE-SEP-X",
  ],
  [
    `-m comment --comment "x has no endpoints" -m tcp -p tcp -d 10.0.0.1 --dport 80 -j REJECT`,
    `-d 10.0.0.1/32 -p tcp -m comment --comment "x has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`,
  ],
  [
    `-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    `! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
  ],
  [
    "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
  ],
  ["-s fd00::1 -j KUBE-MARK-MASQ", "-s fd00::1/128 -j KUBE-MARK-MASQ"],
  ["-s fd00:0:0::0:1 -j KUBE-MARK-MASQ", "-s fd00::1/128 -j KUBE-MARK-MASQ"],
  [
    "-m tcp -p tcp -j DNAT --to-destination [fd00:10:244::0:0]:8080",
    "-p tcp -m tcp -j DNAT --to-destination [fd00:10:244::]:8080",
  ],
];

const different: [string, string][] = [
  ["-s 10.0.0.1 -j KUBE-MARK-MASQ", "-d 10.0.0.1 -j KUBE-MARK-MASQ"],
  ["! -s 10.0.0.0/8 -j KUBE-MARK-MASQ", "-s 10.0.0.0/8 -j KUBE-MARK-MASQ"],
  ["-m tcp -p tcp --dport 80 -j X", "-m tcp -p tcp --dport 81 -j X"],
  [
    "-m statistic --mode random --probability 0.5000000000 -j X",
    "-m statistic --mode random --probability 0.3333333333 -j X",
  ],
  [`-m comment --comment "a b" -j X`, `-m comment --comment "a c" -j X`],
  ["-j MASQUERADE", "-j MASQUERADE --random-fully"],
];

describe("canonicalRule", () => {
  for (const [ours, saved] of same) {
    it(`equates ${ours.slice(0, 60)}…`, () => assert.equal(canonicalRule(ours), canonicalRule(saved)));
  }
  for (const [a, b] of different) {
    it(`tells apart ${a.slice(0, 40)}… and ${b.slice(0, 40)}…`, () =>
      assert.notEqual(canonicalRule(a), canonicalRule(b)));
  }
  it("keeps a quoted comment that looks like an option as a value", () => {
    assert.notEqual(canonicalRule(`-m comment --comment "-j X" -j Y`), canonicalRule("-j X -j Y"));
  });
});
