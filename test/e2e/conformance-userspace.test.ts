import { runConformanceSuite } from "./harness/run-conformance.ts";

runConformanceSuite("userspace");
