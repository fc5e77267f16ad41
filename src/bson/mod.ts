// STUB: the BSON core helper replaces this file with the real front door.
export { BSONError } from "../errors.ts";
