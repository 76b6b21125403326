/**
 * The page's sentence for a write refused 401 follows where the server says its token is. It always
 * sent the user to "the address twinfleet printed", which holds no token when the operator chose one,
 * nor when the token was generated on a service whose log is no terminal (written nowhere).
 */
import { describe, expect, it } from "vitest";
// @ts-expect-error the page's module is plain JavaScript, without types
import { ApiError, explain } from "../public/api.js";

const refused = (detail: string) =>
  explain(new ApiError(401, { title: "Unauthorized", status: 401, detail })) as string;

describe("the page's sentence for a write refused for want of the token", () => {
  it("says no one has a token generated and written nowhere, and how to start the server", () => {
    expect(
      refused(
        "a write needs Authorization: Bearer TOKEN (this server generated its token and wrote it nowhere, its log not being a terminal: start it with --http-token-file FILE or TWINFLEET_HTTP_TOKEN to write from the page or the API)",
      ),
    ).toBe(
      "This action needs the access token, and this server's was generated and written nowhere (its log is not a terminal): start it with --http-token-file FILE or TWINFLEET_HTTP_TOKEN, then open its address with #token=YOUR-TOKEN.",
    );
  });

  it("sends to the operator's token, or to the printed address when it holds the token", () => {
    expect(
      refused(
        "a write needs Authorization: Bearer TOKEN (the token given with --http-token, --http-token-file or TWINFLEET_HTTP_TOKEN)",
      ),
    ).toMatch(/^This action needs the access token the server was given/);
    expect(
      refused("a write needs Authorization: Bearer TOKEN (the token is in the URL the server printed)"),
    ).toBe("This action needs the access token: open the address twinfleet printed (it ends in #token=…).");
  });
});
