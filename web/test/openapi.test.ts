/**
 * The OpenAPI document describes exactly the routes the server serves: every route is in it, with its
 * method, and it lists no route the server does not have.
 */
import { describe, expect, it } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { DemoSource } from "../../view/demo-source.js";
import { openApiDocument } from "../openapi.js";
import { startWebServer } from "../server.js";

describe("the OpenAPI document", () => {
  it("covers every route the server serves, and nothing else", async () => {
    const scheduler = new RealScheduler();
    const source = new DemoSource({ nodes: 4, scheduler });
    const server = await startWebServer({
      source,
      kind: "monitor",
      port: 0,
      token: "t".repeat(20),
      scheduler,
    });
    try {
      const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(doc.openapi).toBe("3.1.0");
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(server.routes.length).toBeGreaterThan(15);
      expect([...server.routes].sort()).toEqual([...documented].sort());
      const served = await (await fetch(`${server.origin}/api/openapi.json`)).json();
      expect(served).toEqual(JSON.parse(JSON.stringify(doc)));
    } finally {
      await server.close();
      source.stop();
    }
  });
});
