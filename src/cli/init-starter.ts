/** The starter job module `zerog init` writes: one small job, commented for a first read. */
export function starterJobModule(typescript: boolean): string {
  const generic = typescript ? "<typeof HelloJob.schema>" : "";
  const override = typescript ? "override " : "";
  return `// Your first ZeroG job module (written by \`zerog init\`). Serve it with \`npm run zerog\`, then
// start a job:  curl -X POST localhost:8888/job/hello -d '{"name": "Ada"}'
import { BaseJob, z } from "zerog/job";

/** A job type is a class: a name (jobType), a params schema, and run(). */
export class HelloJob extends BaseJob${generic} {
  // POST /job/hello creates a job of this type.
  static ${override}jobType = "hello";
  // ZeroG checks the params against this schema (and answers 400) before it queues the job.
  static ${override}schema = z.object({ name: z.string().min(1).default("world") });
  static ${override}description = "Says hello to someone";

  async run() {
    // Logs and data are stored on the job: GET /info/<uuid> and GET /data/<uuid> show them.
    await this.logInfo(\`saying hello to \${this.params.name}\`);
    await this.setData({ greeting: \`hello, \${this.params.name}\` });
    // 200: finished. Throwing records an error; returning NO_RESULT asks to be run again later.
    return 200;
  }
}
`;
}
