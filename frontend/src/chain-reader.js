// The static client's view of the registry, read in this browser straight from a JSON-RPC
// node (no server of ours): the browser's counterpart of spartacus/web/index.py (the
// server's index), spartacus/chain/walk.py (reading a campaign event to event) and
// spartacus/chain/events.py (its decoder). The first read (and a read after a reorg or a long
// absence) walks each campaign's events back from its lastEventBlock by their previousBlock,
// one block per eth_getLogs: events + 1 calls per campaign whatever its age or the node's
// range cap. New blocks are then read in chunks of CHUNK blocks, and a chunk the node refuses
// (too many results, range too wide) is halved, as Registry.raw_logs does. Answers have the shapes of the Flask app's /api/campaigns/<id>
// and /records, so the campaign page runs the same join, withdraw and roster code on either.
//
// The node is trusted for what it says happened on the chain (docs/threat-model.md), except
// custodian keys: those are checked against the custodians' signatures (custodians.js).

import { Interface, getAddress } from "ethers";

import { abi } from "../../spartacus/artifacts/Spartacus.json";

export const CHUNK = 2000; // blocks per eth_getLogs request, unless the config says otherwise
export const RATE_POINTS = 100; // points in a campaign's pledge-rate series (spartacus/web/index.py)
const registryAbi = new Interface(abi);
const IMPLIED_STATUS = { ThresholdReached: "revealed", GraceStarted: "pending", Reopened: "open", Expired: "expired" };
const ROSTER_MODES = ["members", "public"];
const EVENT_TOPICS = [];
registryAbi.forEachEvent((event) => EVENT_TOPICS.push(event.topicHash));
const hex = (n) => `0x${n.toString(16)}`;

/** A JSON-RPC error, or a node that cannot be reached. */
export class RpcError extends Error {}

/** Refusals that mean "ask for a smaller range" (spartacus/chain/health.py range_refused). */
function rangeRefused(error) {
  const text = `${error?.message ?? ""}`.toLowerCase();
  return ["range", "too many", "limit", "exceed", "10000", "response size"].some((w) => text.includes(w));
}

export class ChainReader {
  /** `config`: {rpc, registry, chainId, fromBlock, logChunk (blocks per eth_getLogs)}. */
  constructor(config) {
    this.rpcUrl = config.rpc;
    this.registry = getAddress(config.registry);
    this.chainId = Number(config.chainId);
    this.fromBlock = Number(config.fromBlock ?? 0);
    this.chunk = Math.max(1, Number(config.logChunk ?? CHUNK));
    this.histories = new Map();
    this.blockTimes = new Map(); // block number -> timestamp, for the pledge-rate series
    this.block = this.fromBlock - 1;
    this.hash = null;
    this.timestamp = 0;
    this.checkedChain = false;
    this.nextId = 1;
  }

  async rpc(method, params) {
    let response;
    try {
      response = await fetch(this.rpcUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new RpcError(`the node ${this.rpcUrl} cannot be reached (or this page's security policy does not allow it)`);
    }
    const answer = await response.json().catch(() => null);
    if (!answer || answer.error || !("result" in answer)) {
      throw new RpcError(`the node answered ${method} with ${answer?.error?.message ?? `HTTP ${response.status}`}`);
    }
    return answer.result;
  }

  /** Read what is new on the chain (every campaign's logs); true if anything moved. */
  async sync() {
    if (!this.checkedChain) {
      const chainId = Number(await this.rpc("eth_chainId", []));
      if (chainId !== this.chainId) {
        throw new RpcError(`the node ${this.rpcUrl} serves chain ${chainId}, not chain ${this.chainId} of this registry`);
      }
      this.checkedChain = true;
    }
    const head = await this.rpc("eth_getBlockByNumber", ["latest", false]);
    const number = Number(head.number);
    if (number === this.block && head.hash === this.hash) return false;
    let start = this.block + 1;
    if (this.hash !== null && !(number > this.block && (await this.builtOn(head)))) {
      // A reorg, or a node that went back: read everything again, as the server's index does.
      this.histories = new Map();
      this.blockTimes = new Map();
      start = this.fromBlock;
    }
    if (number - start + 1 > this.chunk) {
      await this.walkAll(start - 1, number);
    } else {
      for (const log of await this.logs(start, number)) this.apply(log);
    }
    this.block = number;
    this.hash = head.hash;
    this.timestamp = Number(head.timestamp);
    return true;
  }

  async builtOn(head) {
    if (Number(head.number) === this.block + 1) return head.parentHash === this.hash;
    const known = await this.rpc("eth_getBlockByNumber", [`0x${this.block.toString(16)}`, false]);
    return known?.hash === this.hash;
  }

  async logs(low, high) {
    try {
      return await this.rpc("eth_getLogs", [{ address: this.registry, fromBlock: `0x${low.toString(16)}`, toBlock: `0x${high.toString(16)}` }]);
    } catch (error) {
      if (low === high || !rangeRefused(error)) throw error;
      const middle = Math.floor((low + high) / 2);
      return [...(await this.logs(low, middle)), ...(await this.logs(middle + 1, high))];
    }
  }

  /** Every campaign's events in blocks after..number, walked back from its lastEventBlock. */
  async walkAll(after, number) {
    const call = async (name, args) => {
      const data = registryAbi.encodeFunctionData(name, args);
      return registryAbi.decodeFunctionResult(name, await this.rpc("eth_call", [{ to: this.registry, data }, hex(number)]));
    };
    const count = Number((await call("campaignCount", []))[0]);
    for (let id = 1; id <= count; id += 1) {
      let block = Number((await call("campaign", [id]))[0].lastEventBlock);
      const topic = `0x${BigInt(id).toString(16).padStart(64, "0")}`;
      const found = [];
      while (block > after && block > 0) {
        const logs = (await this.blockLogs(block, EVENT_TOPICS, topic)).sort((x, y) => Number(x.logIndex) - Number(y.logIndex));
        const previous = Math.min(...logs.map((log) => Number(registryAbi.parseLog(log)?.args.previousBlock ?? block)));
        if (!logs.length || previous >= block) {
          throw new RpcError(`the node's logs of campaign ${id} at block ${block} do not lead to an earlier event`);
        }
        found.push(logs);
        block = previous;
      }
      for (const logs of found.reverse()) for (const log of logs) this.apply(log);
    }
  }

  /** One block's logs of a campaign; over a result cap, asked again half the event kinds at a time. */
  async blockLogs(block, kinds, topic) {
    try {
      return await this.rpc("eth_getLogs", [{ address: this.registry, fromBlock: hex(block), toBlock: hex(block), topics: [kinds, topic] }]);
    } catch (error) {
      if (kinds.length === 1 || !rangeRefused(error)) throw error;
      const middle = Math.floor(kinds.length / 2);
      return [...(await this.blockLogs(block, kinds.slice(0, middle), topic)), ...(await this.blockLogs(block, kinds.slice(middle), topic))];
    }
  }

  apply(log) {
    let parsed;
    try {
      parsed = registryAbi.parseLog(log);
    } catch {
      return;
    }
    if (!parsed || parsed.args.length === 0 || log.topics.length < 2) return;
    const id = Number(BigInt(log.topics[1]));
    if (!this.histories.has(id)) {
      this.histories.set(id, { id, terms: null, custodians: [], instructions: null, pledges: [], withdrawn: new Set(), releases: [], changes: [], counts: [] });
    }
    const h = this.histories.get(id);
    const a = parsed.args;
    const block = Number(log.blockNumber);
    switch (parsed.name) {
      case "CampaignCreated": {
        const t = a.terms;
        h.terms = {
          title: t.title, description: t.description, plan: t.plan, threshold: Number(t.threshold),
          deadline: Number(t.deadline), gracePeriod: Number(t.gracePeriod),
          custodianThreshold: Number(t.custodianThreshold), rosterMode: ROSTER_MODES[Number(t.rosterMode)] ?? String(t.rosterMode),
          creator: a.creator, transactionHash: log.transactionHash, block,
        };
        break;
      }
      case "CustodianAssigned":
        // v2: the endorsement travels in the log, so the page checks each key from it alone.
        h.custodians.push({
          index: Number(a.index), account: a.custodian, campaignKey: a.campaignKey,
          expiry: Number(a.expiry), signature: a.signature,
        });
        break;
      case "InstructionsSealed": {
        const s = a.instructions;
        h.instructions = { index: 0, account: "0x0000000000000000000000000000000000000000", memberKey: s.memberKey, ciphertext: s.ciphertext, boxes: s.boxes, commitment: s.commitment };
        break;
      }
      case "Pledged":
        h.pledges.push({ index: Number(a.index), account: a.account, memberKey: a.memberKey, ciphertext: a.ciphertext, boxes: a.boxes, commitment: a.commitment, active: Number(a.active), block });
        h.counts.push({ block, active: Number(a.active) });
        break;
      case "Withdrawn":
        h.withdrawn.add(Number(a.index));
        h.counts.push({ block, active: Number(a.active) });
        h.changes.push({ event: "Withdrawn", active: Number(a.active), block });
        break;
      case "Admitted":
        (h.admitted ??= new Set()).add(Number(a.index));
        break;
      case "ThresholdReached":
        h.revealPledges = Number(a.pledges);
        h.changes.push({ event: parsed.name, active: Number(a.active), block });
        break;
      case "Released":
        h.releases.push({ custodianIndex: Number(a.index), data: a.data });
        break;
      case "GraceStarted":
        h.changes.push({ event: parsed.name, active: Number(a.active), graceEnd: Number(a.graceEnd), block });
        break;
      default:
        if (parsed.name in IMPLIED_STATUS) h.changes.push({ event: parsed.name, active: Number(a.active), block });
    }
  }

  history(id) {
    const h = this.histories.get(Number(id));
    if (!h?.terms) throw new RpcError(`campaign ${id} is not on this registry (as read from ${this.rpcUrl})`);
    return h;
  }

  /** What statusOf says now, from the logs alone (History.status in spartacus/chain/records.py). */
  status(h) {
    const last = h.changes.filter((c) => c.event in IMPLIED_STATUS).at(-1);
    const stored = last ? IMPLIED_STATUS[last.event] : "open";
    return stored === "open" && this.timestamp > h.terms.deadline ? "expired" : stored;
  }

  /** A row of the campaign list, or a live update (as index.summary gives it). */
  summary(id) {
    const h = this.history(id);
    const graceEnd = h.changes.filter((c) => c.event === "GraceStarted").at(-1)?.graceEnd ?? 0;
    return {
      id: h.id, title: h.terms.title, status: this.status(h), active: h.pledges.length - h.withdrawn.size,
      threshold: h.terms.threshold, deadline: h.terms.deadline, graceEnd, hidden: false,
      block: this.block, now: this.timestamp,
    };
  }

  campaigns() {
    return [...this.histories.values()].filter((h) => h.terms).map((h) => this.summary(h.id)).sort((a, b) => b.id - a.id);
  }

  /** The campaign's detail (as /api/campaigns/<id>), with the endorsements its logs carry. */
  async detail(id) {
    const h = this.history(id);
    const t = h.terms;
    const { endorsements, problem } = await this.endorsements(h);
    return {
      ...this.summary(id),
      description: t.description, plan: t.plan, pledges: h.pledges.length, gracePeriod: t.gracePeriod,
      custodianThreshold: t.custodianThreshold, rosterMode: t.rosterMode, creator: t.creator,
      custodians: [...h.custodians].sort((x, y) => x.index - y.index),
      endorsements, keyCheck: { ok: problem === null, problem },
      rate: await this.rate(h).catch(() => null), // a node that fails here costs the chart only
    };
  }

  /**
   * The active count after each pledge and withdrawal, at most RATE_POINTS of them, with
   * their blocks' times (rate_series in spartacus/web/index.py): the pledge-rate chart.
   */
  async rate(h) {
    let points = h.counts;
    if (points.length > RATE_POINTS) {
      const step = points.length / RATE_POINTS;
      points = [...Array.from({ length: RATE_POINTS - 1 }, (_, i) => points[Math.floor(i * step)]), points.at(-1)];
    }
    const blocks = [...new Set(points.map((p) => p.block))];
    const times = await Promise.all(blocks.map((block) => this.blockTime(block)));
    const at = new Map(blocks.map((block, i) => [block, times[i]]));
    return points.map((p) => ({ time: at.get(p.block), active: p.active }));
  }

  /** A block's timestamp, asked once and kept (until a reorg empties the cache). */
  async blockTime(block) {
    if (!this.blockTimes.has(block)) {
      const found = await this.rpc("eth_getBlockByNumber", [`0x${block.toString(16)}`, false]);
      if (!found) throw new RpcError(`the node has no block ${block}`);
      this.blockTimes.set(block, Number(found.timestamp));
    }
    return this.blockTimes.get(block);
  }

  /** The endorsements the CustodianAssigned logs carry (spartacus/chain/key_check.py). */
  async endorsements(h) {
    const custodians = [...h.custodians].sort((x, y) => x.index - y.index);
    if (custodians.some((c) => !c.signature || c.signature === "0x")) {
      return { endorsements: null, problem: `campaign ${h.id}'s CustodianAssigned logs carry no endorsement signatures` };
    }
    return {
      problem: null,
      endorsements: custodians.map((c) => ({ custodian: c.account, campaignKey: c.campaignKey, expiry: c.expiry, signature: c.signature })),
    };
  }

  /** The public chain data a member's browser reads the roster from (as .../records). */
  records(id) {
    const h = this.history(id);
    return {
      campaignId: h.id, n: h.custodians.length, t: h.terms.custodianThreshold, rosterMode: h.terms.rosterMode,
      status: this.status(h), instructions: h.instructions,
      // Not withdrawn, and a late pledge (after the reveal) only once its creator admitted it.
      pledges: h.pledges.filter(
        (p) => !h.withdrawn.has(p.index) && (h.revealPledges === undefined || p.index <= h.revealPledges || h.admitted?.has(p.index)),
      ),
      withdrawn: [...h.withdrawn].sort((x, y) => x - y), releases: h.releases,
    };
  }

  /** The registry's pledgeOf(campaignId, account), by eth_call. */
  async pledgeOf(id, account) {
    const data = registryAbi.encodeFunctionData("pledgeOf", [id, account]);
    const result = await this.rpc("eth_call", [{ to: this.registry, data }, "latest"]);
    const [active, index, nonce] = registryAbi.decodeFunctionResult("pledgeOf", result);
    return { active, index: Number(index), nonce: Number(nonce) };
  }
}
