import { afterAll, describe } from "vitest";
import { createBeanstalkQueue } from "../../src/backends/beanstalkd/beanstalk-queue.ts";
import { privateBeanstalkd, untilReservesWait } from "../helpers/beanstalkd.ts";
import { describeQueue } from "./queue.suite.ts";

// Skipped only when the beanstalkd binary is missing and CI is not set (the helper fails the run under CI=true).
const server = await privateBeanstalkd();

describe.skipIf(server === null)("beanstalkd (a fresh server per test)", () => {
  afterAll(() => server?.destroy());
  // Queue names are tube names, so each test gets an empty server rather than a namespace.
  // The server keeps time itself (no clock to inject): the suite waits in real time.
  describeQueue({
    name: "beanstalkd",
    time: "real",
    withoutExpire: "beanstalkd returns a holder's reservations to ready when its connection closes",
    serverWaiting: (tube) => untilReservesWait(server?.url ?? "", tube),
    create: async () => {
      await server?.restart();
      return createBeanstalkQueue({ url: server?.url ?? "" });
    },
    connect: () => createBeanstalkQueue({ url: server?.url ?? "" }),
  });
});
