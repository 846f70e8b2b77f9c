/**
 * Test helper, run as a process of its own: a collector started from a
 * config file the way `logship collector` starts it, fed to sinks that
 * record what they are sent, so a test outside the process can watch a
 * sink's deliveries (a replay through the real CLI). The sinks the config
 * builds are replaced by these; everything else is the product's code.
 *
 *   npx node test/helpers/recording-collector.ts CONFIG DIRECTORY SINK...
 *
 * Sink NAME appends each event it is sent to DIRECTORY/NAME.sent as a line
 * `<tenant> <id>`, before answering delivered, so an event sent again
 * shows up again. While DIRECTORY/NAME.fail exists, NAME answers retry with
 * the file's text as the reason. SIGTERM stops the collector gracefully.
 */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadCollectorConfig } from "../../collector/config.ts";
import { startCollector } from "../../collector/main.ts";
import type { SendOutcome, Sink, SinkEvent } from "../../collector/sinks/types.ts";
import { createLogger } from "../../shared/logger.ts";

class RecordingSink implements Sink {
  readonly name: string;
  private readonly directory: string;

  constructor(name: string, directory: string) {
    this.name = name;
    this.directory = directory;
  }

  async send(events: SinkEvent[]): Promise<SendOutcome> {
    const failure = await readFile(join(this.directory, `${this.name}.fail`), "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (failure !== undefined) return { kind: "retry", reason: failure.trim() };
    await appendFile(join(this.directory, `${this.name}.sent`), events.map((event) => `${event.tenant} ${event.id}\n`).join(""));
    return { kind: "delivered" };
  }
}

const [configFile, directory, ...sinkNames] = process.argv.slice(2);
if (configFile === undefined || directory === undefined || sinkNames.length === 0) throw new Error("usage: recording-collector.ts CONFIG DIRECTORY SINK...");
const logger = createLogger({ level: "info", format: "json", write: (line) => process.stderr.write(line) });
const collector = await startCollector({
  config: loadCollectorConfig(configFile, process.env),
  logger,
  sinks: sinkNames.map((name) => new RecordingSink(name, directory)),
});
process.once("SIGTERM", () => void collector.stop());
