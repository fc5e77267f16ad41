/**
 * The client API, after PyMongo 2.1's replica-set guide:
 * {@linkcode ReplicaSetConnection} and {@linkcode Connection}, their
 * {@linkcode Database}s and {@linkcode Collection}s, and {@linkcode Cursor}s.
 *
 * @example
 * ```ts ignore
 * import { ReplicaSetConnection } from "@zerodep/mongo";
 *
 * await using c = await ReplicaSetConnection.connect("mongodb://localhost:27017/?replicaSet=foo");
 * await c.db("test").collection("test").insertOne({ x: 1 });
 * console.log(await c.db("test").collection("test").findOne({ x: 1 }));
 * ```
 *
 * @module
 */
export {
  ClientBase,
  type ClientConnectionOptions,
  type ConnectOptions,
  type DatabaseInfo,
  type ListDatabasesOptions,
} from "./client_base.ts";
export { Connection } from "./connection.ts";
export {
  type ResolvedTransactionOptions,
  Transaction,
  type TransactionCommandRunner,
  type TransactionDefaults,
  type TransactionOperation,
  type TransactionOptions,
  type TransactionState,
} from "./transaction.ts";
export type { WithTransactionOptions } from "./with_transaction.ts";
export { ClientSession, type ClientSessionOptions, type ClusterTime } from "./session.ts";
export { ReplicaSetConnection } from "./replica_set_connection.ts";
export {
  type CollectionInfo,
  type CreateCollectionOptions,
  Database,
  type DatabaseOptions,
  type DropDatabaseOptions,
  type ListCollectionsOptions,
  type RunCommandOptions,
} from "./database.ts";
export { Collection } from "./collection.ts";
export type {
  CollectionOptions,
  CountDocumentsOptions,
  DeleteOptions,
  DeleteResult,
  DropCollectionOptions,
  InferIdType,
  InsertManyOptions,
  InsertManyResult,
  InsertOneResult,
  OptionalId,
  SchemaDocument,
  UpdateOptions,
  UpdateResult,
  WithId,
  WriteOptions,
} from "./collection_options.ts";
export type {
  CreateIndexesOptions,
  CreateIndexOptions,
  DropIndexesOptions,
  IndexDescription,
  IndexOptions,
  ListIndexesOptions,
  RenameOptions,
} from "./indexes.ts";
export type { AnyBulkWriteOperation, BulkWriteOptions, DeleteModel, ReplaceModel, UpdateModel } from "./bulk_write.ts";
export type { DistinctOptions, EstimatedDocumentCountOptions } from "./distinct.ts";
export type { FindOneAndDeleteOptions, FindOneAndReplaceOptions, FindOneAndUpdateOptions } from "./find_and_modify.ts";
export {
  type AggregateOptions,
  type CommandCursorOptions,
  Cursor,
  type CursorReadOptions,
  type CursorSource,
  type FindOptions,
  type TimeoutMode,
} from "./cursor.ts";
export {
  ChangeStream,
  type ChangeStreamDocument,
  type ChangeStreamDocumentChange,
  type ChangeStreamEventBase,
  type ChangeStreamInvalidate,
  type ChangeStreamNamespaceChange,
  type ChangeStreamNameSpace,
  type ChangeStreamOptions,
  type ResumeToken,
  type UpdateDescription,
} from "./change_stream.ts";
export { indexName } from "./indexes.ts";
export type { RunCursorCommandOptions } from "./run_cursor_command.ts";
export type { CountOptions } from "./distinct.ts";
export { ClientBulkWriteError, type ClientWriteErrorDetail } from "./client_bulk_write_error.ts";
export type {
  ClientBulkWriteModel,
  ClientBulkWriteOptions,
  ClientBulkWriteResult,
  ClientDeleteFields,
  ClientUpdateFields,
} from "./client_bulk_write.ts";
export type { SearchIndexModel, SearchIndexOptions } from "./search_indexes.ts";
export { checkWriteConcern, type WriteConcern } from "./write_concern.ts";
export { checkReadConcern, type ReadConcern } from "./read_concern.ts";
export {
  GridFSBucket,
  type GridFSBucketOptions,
  type GridFSFindOptions,
  type GridFSOperationOptions,
} from "./gridfs.ts";
export { type GridFSFile, GridFSUploadStream, type GridFSUploadOptions } from "./gridfs_upload.ts";
export {
  type GridFSDownloadByNameOptions,
  type GridFSDownloadOptions,
  GridFSDownloadStream,
} from "./gridfs_download.ts";
export {
  ChunkIsMissingError,
  ChunkIsWrongSizeError,
  ExtraChunkError,
  FileNotFoundError,
  GridFSError,
  RevisionNotFoundError,
} from "./gridfs_errors.ts";
