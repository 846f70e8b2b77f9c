/**
 * Agent memory while the spool grows (issue 3: collector down, a writer at
 * 50 MB/s for 60 s; target RSS < 100 MB). The scenario is a test with its
 * assertions (test/memory/spool-memory.test.ts); running it prints the
 * `{"bench":"spool_memory", ...}` line docs/BENCHMARKS.md is made from.
 */
import "../test/memory/spool-memory.test.ts";
