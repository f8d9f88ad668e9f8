/** Beanstalkd's limit on a tube name, in bytes (`MAX_TUBE_NAME_LEN` − 1 in its source). */
export const MAX_TUBE_NAME_BYTES = 200;

/** Letters, digits and `-+/;.$_()`, not starting with `-`: the names the server accepts (protocol.txt, "Tubes"). */
const TUBE_NAME = /^[A-Za-z0-9+/;.$_()][A-Za-z0-9\-+/;.$_()]*$/;

/** Why `name` is not a valid tube name, or null when it is. */
export function tubeNameProblem(name: string): string | null {
  if (name.length === 0) return "it is empty";
  // Every allowed character is ASCII, so the byte length is the string length once the pattern passes.
  if (!TUBE_NAME.test(name)) {
    return name.startsWith("-")
      ? "it starts with '-'"
      : "it may hold only letters, digits and the characters - + / ; . $ _ ( )";
  }
  if (name.length > MAX_TUBE_NAME_BYTES) return `it is longer than ${MAX_TUBE_NAME_BYTES} bytes`;
  return null;
}
