// The program: load the stack's config (all of it validated before any resource exists), define
// the graph, export its outputs. The only side effects of this project live here.
import { defineLucid } from "./infra/lucid";
import { SERVICES } from "./infra/services";
import { loadConfig } from "./stacks/config";

export = async () => defineLucid(loadConfig(SERVICES.map((s) => s.name)));
