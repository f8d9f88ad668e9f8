export const x = 1; syntax error here(
