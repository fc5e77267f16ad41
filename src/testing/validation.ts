/**
 * Document validation for collections created with a `validator`: a query
 * filter, a `$jsonSchema` (the subset `bsonType`, `type`, `required`,
 * `properties`, `additionalProperties` (boolean), `enum`, `minimum`,
 * `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength`,
 * `maxLength`, `pattern`, `items` (one schema), `minItems`, `maxItems`,
 * `title`, `description`), or both. Another keyword is refused when the
 * collection is created (FailedToParse), never silently ignored. Failures
 * are DocumentValidationFailure (121) with `errInfo`, as from mongod;
 * `validationLevel` (off / moderate / strict) and `validationAction`
 * (error / warn) are honoured.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schemaErrors } from "./validation.ts";
 *
 * assert.deepEqual(schemaErrors({ required: ["a"] }, {}), ["required: a"]);
 * ```
 *
 * @module
 */
import type { Document } from "../bson/mod.ts";
import { ErrorCode } from "../error_codes.ts";
import { isPlainDocument, matches, numericValue, typeName, valuesEqual } from "./query.ts";
import { badValue, serverError } from "./_server_error.ts";

const KEYWORDS = new Set([
  "bsonType",
  "type",
  "required",
  "properties",
  "additionalProperties",
  "enum",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "items",
  "minItems",
  "maxItems",
  "title",
  "description",
]);

const JSON_TYPES: Record<string, string[]> = {
  object: ["object"],
  array: ["array"],
  string: ["string"],
  number: ["int", "long", "double", "decimal"],
  boolean: ["bool"],
  null: ["null"],
};

/**
 * Checks a `$jsonSchema` when a collection is created.
 *
 * @throws {MongoError} FailedToParse for a keyword outside the supported subset.
 */
export function checkSchema(schema: unknown, path = "$jsonSchema"): void {
  if (!isPlainDocument(schema)) throw serverError(ErrorCode.TypeMismatch, "TypeMismatch", `${path} must be an object`);
  for (const k of Object.keys(schema)) {
    if (!KEYWORDS.has(k)) {
      throw serverError(ErrorCode.FailedToParse, "FailedToParse", `Unknown $jsonSchema keyword: ${k} (the simulated server supports ${[...KEYWORDS].join(", ")})`);
    }
  }
  if (isPlainDocument(schema.properties)) {
    for (const [k, v] of Object.entries(schema.properties)) checkSchema(v, `${path}.properties.${k}`);
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${path}.items`);
  if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== "boolean") {
    throw serverError(ErrorCode.FailedToParse, "FailedToParse", "the simulated server supports only a boolean additionalProperties");
  }
}

function bsonTypeOf(v: unknown): string {
  return typeName(v);
}

function typeOk(v: unknown, wanted: unknown, json: boolean): boolean {
  const list = Array.isArray(wanted) ? wanted : [wanted];
  const actual = bsonTypeOf(v);
  return list.some((w) => {
    if (typeof w !== "string") return false;
    if (json) return (JSON_TYPES[w] ?? []).includes(actual);
    return w === actual || (w === "number" && ["int", "long", "double", "decimal"].includes(actual));
  });
}

/**
 * What in `value` breaks `schema` (empty when it satisfies it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schemaErrors } from "./validation.ts";
 *
 * assert.deepEqual(schemaErrors({ properties: { n: { bsonType: "int" } } }, { n: "x" }), ["n: bsonType"]);
 * ```
 */
export function schemaErrors(schema: Document, value: unknown, path = ""): string[] {
  const out: string[] = [];
  const at = (kw: string) => out.push(path === "" ? kw : `${path}: ${kw}`);
  if (schema.bsonType !== undefined && !typeOk(value, schema.bsonType, false)) at("bsonType");
  if (schema.type !== undefined && !typeOk(value, schema.type, true)) at("type");
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => valuesEqual(e, value))) at("enum");
  const n = numericValue(value);
  if (n !== undefined) {
    const x = Number(n);
    const lim = (k: string) => Number(numericValue(schema[k]));
    if (schema.minimum !== undefined && (schema.exclusiveMinimum === true ? x <= lim("minimum") : x < lim("minimum"))) at("minimum");
    if (schema.maximum !== undefined && (schema.exclusiveMaximum === true ? x >= lim("maximum") : x > lim("maximum"))) at("maximum");
  }
  if (typeof value === "string") {
    const len = [...value].length;
    if (schema.minLength !== undefined && len < Number(numericValue(schema.minLength))) at("minLength");
    if (schema.maxLength !== undefined && len > Number(numericValue(schema.maxLength))) at("maxLength");
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) at("pattern");
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < Number(numericValue(schema.minItems))) at("minItems");
    if (schema.maxItems !== undefined && value.length > Number(numericValue(schema.maxItems))) at("maxItems");
    if (isPlainDocument(schema.items)) {
      value.forEach((v, i) => out.push(...schemaErrors(schema.items as Document, v, `${path}${path ? "." : ""}${i}`)));
    }
  }
  if (isPlainDocument(value)) {
    if (Array.isArray(schema.required)) {
      for (const r of schema.required) if (typeof r === "string" && value[r] === undefined) at(`required: ${r}`);
    }
    const props = isPlainDocument(schema.properties) ? schema.properties : {};
    for (const [k, sub] of Object.entries(props)) {
      if (value[k] !== undefined && isPlainDocument(sub)) {
        out.push(...schemaErrors(sub, value[k], `${path}${path ? "." : ""}${k}`));
      }
    }
    if (schema.additionalProperties === false) {
      for (const k of Object.keys(value)) if (!Object.hasOwn(props, k)) at(`additionalProperties: ${k}`);
    }
  }
  return out;
}

/**
 * Checks a collection's validator when it is created: a document whose
 * `$jsonSchema` is within the supported subset.
 */
export function checkValidator(validator: unknown): void {
  if (!isPlainDocument(validator)) throw serverError(ErrorCode.TypeMismatch, "TypeMismatch", "'validator' must be an object");
  if (validator.$jsonSchema !== undefined) checkSchema(validator.$jsonSchema);
  const rest: Document = { ...validator };
  delete rest.$jsonSchema;
  for (const k of ["$where", "$near", "$nearSphere", "$text", "$expr"]) {
    if (Object.hasOwn(rest, k)) throw badValue(`${k} can not be used in a validator in the simulated server`);
  }
  matches({}, rest); // malformed operators fail now, not at the first insert
}

function failures(validator: Document, doc: Document): string[] {
  const out: string[] = [];
  if (isPlainDocument(validator.$jsonSchema)) out.push(...schemaErrors(validator.$jsonSchema, doc));
  const rest: Document = { ...validator };
  delete rest.$jsonSchema;
  if (Object.keys(rest).length > 0 && !matches(doc, rest)) out.push("query");
  return out;
}

/**
 * Throws DocumentValidationFailure when `doc` breaks the collection's
 * validator (`before`: the document an update replaces, for the moderate level).
 *
 * @example
 * ```ts ignore
 * validateDocument({ validator: { a: { $gt: 0 } } }, { _id: 1, a: 0 }, undefined, false); // throws
 * ```
 */
export function validateDocument(
  options: Document,
  doc: Document,
  before: Document | undefined,
  bypass: boolean,
): void {
  const validator = options.validator;
  if (bypass || !isPlainDocument(validator) || Object.keys(validator).length === 0) return;
  const level = options.validationLevel ?? "strict";
  if (level === "off") return;
  if (options.validationAction === "warn") return;
  const broken = failures(validator, doc);
  if (broken.length === 0) return;
  if (level === "moderate" && before !== undefined && failures(validator, before).length > 0) return;
  throw serverError(ErrorCode.DocumentValidationFailure, "DocumentValidationFailure", "Document failed validation", {
    errInfo: {
      failingDocumentId: doc._id,
      details: {
        operatorName: validator.$jsonSchema !== undefined ? "$jsonSchema" : "$and",
        rulesNotSatisfied: broken,
      },
    },
  });
}
