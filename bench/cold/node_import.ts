// cold_start.ts child: import the official Node driver and nothing else.
import { MongoClient } from "mongodb";

if (typeof MongoClient !== "function") throw new Error("import failed");
