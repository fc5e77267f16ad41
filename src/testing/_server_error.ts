/**
 * Failures a simulated server reports to its client as `{ok: 0, errmsg, code,
 * codeName}`. They travel as `MongoError`s carrying the server's code, so
 * that deep query or update code can bail out with a plain `throw`.
 *
 * @module
 */
import { BSONError, MongoError } from "../errors.ts";

const SERVER_CODE = Symbol("serverCode");

/** What a server error reply carries. */
export interface ServerFailure {
  code: number;
  codeName: string;
  errmsg: string;
  /** Further fields of the reply or write error (`keyPattern`, `errInfo`...). */
  extra?: Record<string, unknown>;
}

/** Makes a throwable failure that the member turns into an error reply. */
export function serverError(
  code: number,
  codeName: string,
  errmsg: string,
  extra?: Record<string, unknown>,
): MongoError {
  const e = new MongoError(errmsg);
  (e as unknown as Record<symbol, ServerFailure>)[SERVER_CODE] = { code, codeName, errmsg, ...(extra ? { extra } : {}) };
  return e;
}

/** The failure to report for anything a command handler threw. */
export function toFailure(error: unknown): ServerFailure {
  if (error instanceof MongoError) {
    const f = (error as unknown as Record<symbol, ServerFailure | undefined>)[SERVER_CODE];
    if (f !== undefined) return f;
    if (error instanceof BSONError) return { code: 22, codeName: "InvalidBSON", errmsg: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 1, codeName: "InternalError", errmsg: message };
}

/** BadValue (2), the server's answer to most malformed arguments. */
export function badValue(errmsg: string): MongoError {
  return serverError(2, "BadValue", errmsg);
}

/** TypeMismatch (14), for an argument of the wrong BSON type. */
export function typeMismatch(errmsg: string): MongoError {
  return serverError(14, "TypeMismatch", errmsg);
}
