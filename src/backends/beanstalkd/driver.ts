import type { BackendDriver } from "../../contracts/driver.ts";

/** A `beanstalk://host:port` URL, checked when it is opened (see url.ts). */
export interface BeanstalkUrl {
  scheme: "beanstalk";
  url: string;
}

/** A Beanstalkd server, as the queue only: it stores no documents, so it pairs with any datastore. */
export const beanstalkDriver: BackendDriver<BeanstalkUrl> = {
  name: "beanstalk",
  schemes: ["beanstalk:"],
  example: "beanstalk://host:11300",
  provides: { datastore: false, queue: true, fleet: false },
  capabilities: { oneTransaction: false, multiProcess: true, notifications: "cross-process" },
  parseUrl: (url) => ({ scheme: "beanstalk", url }),
  openQueue: async (config) => {
    const { createBeanstalkQueue } = await import("./beanstalk-queue.ts");
    const queue = await createBeanstalkQueue({ url: config.url });
    return { queue, close: () => queue.close() };
  },
  misuseMessage: (_half, url) => `'${url}' is a queue only (Beanstalkd stores no documents); use it as the queue URL`,
};
