// The job module `npm start` serves: a module exporting job classes.
export { FizzBuzzJob } from "./fizz-buzz-job.ts";
export { WasteTimeJob } from "./waste-time-job.ts";
