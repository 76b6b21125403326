/**
 * How a number is written in a flag, in every layer: plain decimal. Digits with no leading zero (`0`
 * and `0.5` are fine), an optional minus sign and fraction. Number() would also take hex (`0x10`),
 * binary and octal (`0b11`, `0o10`), exponents (`1e3`), `+`, `.5`, `Infinity` and surrounding
 * whitespace; `010` reads as octal to some tools. All of them are refused, so `--nodes 0x10` is an
 * error naming the flag instead of 16 nodes.
 */
const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const WHOLE = /^(?:0|[1-9]\d*)$/;

/** A plain decimal number (`-1`, `0`, `2.5`), as a string. */
export function isDecimal(s: string): boolean {
  return DECIMAL.test(s);
}

/** A plain decimal whole number without a sign (`0`, `42`). */
export function isWholeDecimal(s: string): boolean {
  return WHOLE.test(s);
}

/**
 * What to add to a refusal when the string is a number in some other form (`0x10`, `1e3`, ` 16`,
 * `010`): the reader may not see why a number was refused. Empty otherwise.
 */
export function decimalHint(s: string): string {
  if (isDecimal(s) || s.trim() === "" || !Number.isFinite(Number(s))) return "";
  return " (plain decimal digits only: no hex, octal, exponent, sign + or spaces)";
}
