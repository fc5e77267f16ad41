// The application API's types, checked by the suite's `deno check tests/`
// step: collection<T>() takes interfaces and type aliases; inserts take
// OptionalId<T>; reads and findOneAnd* give WithId<T>; insertedId,
// insertedIds and upsertedId have T's _id type (ObjectId when T has none).
// Every `@ts-expect-error` line must stay an error: if one compiled, the
// check step would fail ("Unused '@ts-expect-error' directive"). The test
// also runs the calls on a fake topology, so the shapes the types promise
// are the ones returned.
import { describe, test } from "node:test";
import assert from "node:assert/strict";

import { type Document, ObjectId } from "../../src/bson/mod.ts";
import type {
  AnyBulkWriteOperation,
  Collection,
  InferIdType,
  InsertOneResult,
  UpdateResult,
  WithId,
} from "../../mod.ts";
import { okHandler } from "./_fake_topology.ts";
import { setup } from "./_client_setup.ts";

interface Item {
  name: string;
  qty: number;
  tags?: string[];
}

type Tagged = { _id: string; label: string };

/** Compile-time equality of two types. */
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;
function assertType<_T extends true>(): void {}

describe("types of the application API", () => {
  test("interfaces and type aliases as document types; ids typed from _id", async () => {
    const { client } = setup((call) => {
      if (Object.keys(call.cmd)[0] === "findAndModify") return { ok: 1, value: { _id: new ObjectId(), name: "a", qty: 2 } };
      return okHandler(call);
    });
    const items: Collection<Item> = client.db("test").collection<Item>("items");
    const tagged = client.db("test").collection<Tagged>("tagged");

    const r = await items.insertOne({ name: "pen", qty: 1 });
    assertType<Equals<typeof r, InsertOneResult<Item>>>();
    assertType<Equals<typeof r.insertedId, ObjectId>>();
    assert.ok(r.insertedId instanceof ObjectId, "an Item without _id gets an ObjectId");

    const t = await tagged.insertOne({ _id: "x", label: "y" });
    assertType<Equals<typeof t.insertedId, string>>();
    assert.equal(t.insertedId, "x");

    const many = await items.insertMany([{ name: "a", qty: 1 }]);
    assertType<Equals<typeof many.insertedIds[0], ObjectId>>();

    const u: UpdateResult<Item> = await items.updateOne({ name: "pen" }, { $inc: { qty: 1 } }, { upsert: true });
    assertType<Equals<typeof u.upsertedId, ObjectId | null>>();

    const found = await items.findOneAndUpdate({ name: "a" }, { $inc: { qty: 1 } }, { returnDocument: "after" });
    assertType<Equals<typeof found, WithId<Item> | null>>();
    assert.ok(found !== null);
    assert.ok(found._id instanceof ObjectId);
    assert.equal(found.qty, 2);

    const one = await items.findOne({ name: "a" });
    if (one !== null) {
      const id: ObjectId = one._id;
      const qty: number = one.qty;
      void [id, qty];
    }
    const docs: WithId<Item>[] = await items.find({}).toArray();
    assert.deepEqual(docs, []);

    const ops: AnyBulkWriteOperation<Item>[] = [
      { insertOne: { document: { name: "b", qty: 3 } } },
      { replaceOne: { filter: {}, replacement: { name: "c", qty: 4 } } },
    ];
    assert.equal(ops.length, 2);

    // The untyped default: any field, ids unknown.
    const loose = client.db("test").collection("loose");
    await loose.insertOne({ anything: [1, 2], nested: { a: 1 } });
    assertType<Equals<InferIdType<Document>, unknown>>();
  });

  test("what must stay a type error", () => {
    const { client } = setup();
    const items = client.db("test").collection<Item>("items");
    const tagged = client.db("test").collection<Tagged>("tagged");
    // Checked by `deno check`; none of these run.
    const never = (): void => {
      // @ts-expect-error a field Item does not have
      void items.insertOne({ name: "pen", qty: 1, colour: "red" });
      // @ts-expect-error a field of the wrong type
      void items.insertOne({ name: "pen", qty: "1" });
      // @ts-expect-error a required field left out
      void items.insertOne({ name: "pen" });
      // @ts-expect-error Tagged's _id is a string
      void tagged.insertOne({ _id: 1, label: "y" });
      // @ts-expect-error a replacement of the wrong shape
      void items.replaceOne({}, { name: 1, qty: 1 });
      // @ts-expect-error not a bulk write model
      const bad: AnyBulkWriteOperation<Item> = { upsertOne: { filter: {} } };
      // @ts-expect-error an insertOne model with a wrong document
      const bad2: AnyBulkWriteOperation<Item> = { insertOne: { document: { name: 2, qty: 1 } } };
      // @ts-expect-error returnDocument is "before" or "after"
      void items.findOneAndUpdate({}, { $set: { qty: 1 } }, { returnDocument: "new" });
      void (async () => {
        const r = await items.insertOne({ name: "a", qty: 1 });
        // @ts-expect-error an Item's generated id is an ObjectId, not a string
        const s: string = r.insertedId;
        const f = await items.findOne();
        // @ts-expect-error findOne may give null
        const q: number = f.qty;
        void [s, q];
      });
      // @ts-expect-error a number is not a document type
      client.db("test").collection<number>("n");
      void [bad, bad2];
    };
    assert.equal(typeof never, "function");
  });
});
