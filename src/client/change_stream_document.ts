/**
 * The change events a change stream returns (`ChangeStreamDocument<T>`), as
 * `specs/change-streams/change-streams.md` ("Response Format") describes them.
 *
 * @module
 */

import type { Document, Timestamp } from "../bson/mod.ts";

/**
 * A resume token: the `_id` of a change event, or a batch's
 * `postBatchResumeToken`. Opaque; give it back as `resumeAfter` or `startAfter`.
 *
 * @example
 * ```ts
 * import type { ResumeToken } from "@zerodep/mongo";
 *
 * const token: ResumeToken = { _data: "8263..." };
 * ```
 */
export type ResumeToken = Document;

/**
 * The namespace of a change: `{db, coll}` (`coll` absent for `dropDatabase`).
 *
 * @example
 * ```ts
 * import type { ChangeStreamNameSpace } from "@zerodep/mongo";
 *
 * const ns: ChangeStreamNameSpace = { db: "test", coll: "people" };
 * ```
 */
export interface ChangeStreamNameSpace {
  /** The database. */
  readonly db: string;
  /** The collection (absent for database-wide events). */
  readonly coll?: string;
}

/**
 * What every change event carries.
 *
 * @example
 * ```ts
 * import type { ChangeStreamEventBase } from "@zerodep/mongo";
 *
 * const describe = (e: ChangeStreamEventBase) => `${e.operationType} at ${e.clusterTime}`;
 * ```
 */
export interface ChangeStreamEventBase {
  /** The event's resume token. */
  readonly _id: ResumeToken;
  /** The kind of change (`insert`, `update`, ..., `invalidate`). */
  readonly operationType: string;
  /** The oplog time of the change. */
  readonly clusterTime?: Timestamp;
  /** The server's wall clock time of the change (MongoDB 6.0+). */
  readonly wallTime?: Date;
  /** The session of the transaction the change belongs to, if any. */
  readonly lsid?: Document;
  /** The transaction number of that transaction. */
  readonly txnNumber?: bigint | number;
  /** Fields of newer servers (`collectionUUID`, ...). */
  readonly [key: string]: unknown;
}

/**
 * What an `update` changed: `updatedFields`, `removedFields`, `truncatedArrays`
 * (and `disambiguatedPaths` with `showExpandedEvents`).
 *
 * @example
 * ```ts
 * import type { UpdateDescription } from "@zerodep/mongo";
 *
 * const d: UpdateDescription = { updatedFields: { x: 1 }, removedFields: [], truncatedArrays: [] };
 * ```
 */
export interface UpdateDescription {
  /** Changed and added fields, by dotted path. */
  readonly updatedFields?: Document;
  /** Removed fields, by dotted path. */
  readonly removedFields?: string[];
  /** Arrays that shrank: the path and the new length. */
  readonly truncatedArrays?: { field: string; newSize: number }[];
  /** With `showExpandedEvents`: the components of each path with a numeric field name or an array index. */
  readonly disambiguatedPaths?: Document;
}

/**
 * A document change: `insert`, `update`, `replace` or `delete`.
 * `fullDocument` is the document after the change (`insert`, `replace`, and
 * `update` with `fullDocument: "updateLookup"` and the like);
 * `fullDocumentBeforeChange` the pre-image (MongoDB 6.0+ with
 * `changeStreamPreAndPostImages` on the collection).
 *
 * @example
 * ```ts
 * import type { ChangeStreamDocumentChange } from "@zerodep/mongo";
 *
 * const name = (e: ChangeStreamDocumentChange<{ name: string }>) => e.fullDocument?.name;
 * ```
 */
export interface ChangeStreamDocumentChange<T = Document> extends ChangeStreamEventBase {
  /** The kind of document change. */
  readonly operationType: "insert" | "update" | "replace" | "delete";
  /** Where the document is. */
  readonly ns: ChangeStreamNameSpace;
  /** `_id` (and the shard key) of the changed document. */
  readonly documentKey: { _id: unknown; [key: string]: unknown };
  /** The document after the change (`null`: asked for, not available). */
  readonly fullDocument?: T | null;
  /** The document before the change (`null`: asked for, not available). */
  readonly fullDocumentBeforeChange?: T | null;
  /** On `update` events. */
  readonly updateDescription?: UpdateDescription;
}

/**
 * A change to a collection or database itself: `drop`, `rename`
 * (with `to`), `dropDatabase`, and with `showExpandedEvents` `create`,
 * `createIndexes`, `dropIndexes`, `modify`, `shardCollection`...
 * (`operationDescription`).
 *
 * @example
 * ```ts
 * import type { ChangeStreamNamespaceChange } from "@zerodep/mongo";
 *
 * const target = (e: ChangeStreamNamespaceChange) => e.operationType === "rename" ? e.to?.coll : e.ns.coll;
 * ```
 */
export interface ChangeStreamNamespaceChange extends ChangeStreamEventBase {
  /** The kind of collection or database change. */
  readonly operationType:
    | "drop"
    | "rename"
    | "dropDatabase"
    | "create"
    | "createIndexes"
    | "dropIndexes"
    | "modify"
    | "shardCollection"
    | "refineCollectionShardKey"
    | "reshardCollection";
  /** The collection or database changed. */
  readonly ns: ChangeStreamNameSpace;
  /** On `rename` events: the new namespace. */
  readonly to?: ChangeStreamNameSpace;
  /** With `showExpandedEvents`: the details of a DDL event. */
  readonly operationDescription?: Document;
  /** With `showExpandedEvents`: `collection`, `view` or `timeseries`. */
  readonly nsType?: string;
}

/**
 * The last event of a stream whose collection or database went away
 * (dropped, renamed): the server then closes the cursor. Resume after it only
 * with `startAfter`.
 *
 * @example
 * ```ts
 * import type { ChangeStreamInvalidate } from "@zerodep/mongo";
 *
 * const token = (e: ChangeStreamInvalidate) => e._id; // for startAfter
 * ```
 */
export interface ChangeStreamInvalidate extends ChangeStreamEventBase {
  /** Always `"invalidate"`. */
  readonly operationType: "invalidate";
}

/**
 * A change event of a stream over documents of type `T`.
 *
 * @example
 * ```ts ignore
 * import type { ChangeStreamDocument } from "@zerodep/mongo";
 *
 * interface Item { name: string }
 * const stream = c.db("shop").collection<Item>("items").watch();
 * for await (const e: ChangeStreamDocument<Item> of stream) {
 *   if (e.operationType === "insert") console.log(e.fullDocument?.name);
 * }
 * ```
 */
export type ChangeStreamDocument<T = Document> =
  | ChangeStreamDocumentChange<T>
  | ChangeStreamNamespaceChange
  | ChangeStreamInvalidate;
