// cold_start.ts child: import this module's front door (client, BSON, ReadPreference, errors) and nothing else.
import { ObjectId, ReplicaSetConnection } from "../../mod.ts";

if (typeof ReplicaSetConnection !== "function" || typeof ObjectId !== "function") throw new Error("import failed");
