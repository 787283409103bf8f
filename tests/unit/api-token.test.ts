import { apiTokenProvider } from "../../components/api-token";

describe("the API token's provider", () => {
  test("makes 256 random bits, base64url, a new one each time", async () => {
    const a = await apiTokenProvider.create!({ rotation: 0 });
    const b = await apiTokenProvider.create!({ rotation: 0 });
    expect(a.outs.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.outs.token, "base64url")).toHaveLength(32);
    expect(b.outs.token).not.toBe(a.outs.token);
    expect(b.id).not.toBe(a.id);
    expect(a.outs.rotation).toBe(0);
  });

  test("a new rotation replaces it; the same one is no change", async () => {
    const olds = { rotation: 1, token: "t" };
    expect(await apiTokenProvider.diff!("id", olds, { rotation: 1 })).toMatchObject({
      changes: false,
      replaces: [],
    });
    expect(await apiTokenProvider.diff!("id", olds, { rotation: 2 })).toMatchObject({
      changes: true,
      replaces: ["rotation"],
    });
  });
});
