// The static copy of the site (`spartacus export-site DIR`): one index.html, this bundle and
// the styles, served by any static host (or opened from a file). Its views are client-side
// routes in the URL's fragment (#/, #/c/<id>, #/create), so no host needs rewrite rules and
// no fragment ever reaches a server. A private receipt link is the copy's page with
// #receipt=<code> (receipt-link.js, the same fragment as on the Flask pages): the code names
// its campaign, whose view opens with the receipt ready, the code then taken out of the
// address bar (left at #/c/<id>). It reads the chain in this browser through a JSON-RPC
// node (chain-reader.js) and submits through a relayer URL (the Flask app's /api/relay/* and
// /api/endorsements) or the visitor's wallet, driving the same campaign.js and create.js as
// the Flask pages: one client to audit.
//
// The config (rpc, registry, chainId, fromBlock, relayer, connect) is written into
// index.html by the export; the visitor sees the RPC and relayer URLs on every view and can
// change them (kept in localStorage). The page's security policy lets it connect only to
// the URLs the export allowed (`connect`): another URL needs a copy exported with it.

import { ChainReader } from "./chain-reader.js";
import { campaignPage } from "./campaign.js";
import { createPage } from "./create.js";
import * as protocol from "./protocol/index.js";
import { receiptFromFragment } from "./receipt-link.js";
import { $, api, el, say, show } from "./ui.js";

export const CONFIG_KEY = "spartacus.static-config";

/** The export's config, with the visitor's own rpc and relayer when they chose others. */
export function siteConfig(storage = localStorage) {
  const script = document.getElementById("site-config");
  const base = script ? JSON.parse(script.textContent) : {};
  let mine = {};
  try {
    mine = JSON.parse(storage.getItem(CONFIG_KEY) ?? "{}") ?? {};
  } catch {
    mine = {};
  }
  const config = { ...base };
  for (const key of ["rpc", "relayer"]) {
    if (typeof mine[key] === "string") config[key] = mine[key];
  }
  config.changed = Object.keys(mine).length > 0;
  return config;
}

/** Whether this page's security policy lets it reach `url` (the export's connect list). */
export function allowed(config, url) {
  if (!url) return true;
  try {
    const origin = new URL(url).origin;
    return (config.connect ?? []).some((u) => new URL(u).origin === origin);
  } catch {
    return false;
  }
}

export async function staticSite() {
  const config = siteConfig();
  showSettings(config);
  window.addEventListener("hashchange", () => window.location.reload());
  const reader = new ChainReader(config);
  const route = window.location.hash.replace(/^#\/?/, "");
  const main = $("#view");
  const link = receiptFromFragment(window.location.hash);
  if (link) {
    let campaignId;
    try {
      ({ campaignId } = protocol.decodeReceipt(link.code));
    } catch (error) {
      history.replaceState(history.state, "", here());  // a damaged code leaves the address bar too
      say($("#page-error"), `The receipt link is damaged: ${error?.message ?? error}. Check that it was copied whole.`);
      return homeView(main, reader);
    }
    return campaignView(main, config, reader, Number(campaignId));
  }
  const match = /^c\/(\d+)$/.exec(route);
  if (match) return campaignView(main, config, reader, Number(match[1]));
  if (route === "create") return createView(main, config, reader);
  return homeView(main, reader);
}

/** This page's address without its fragment (`route`, e.g. "#/c/7", appended if given). */
function here(route = "") {
  return `${window.location.pathname}${window.location.search}${route}`;
}

// ---------------------------------------------------------------- settings

function showSettings(config) {
  $("#config-rpc").value = config.rpc ?? "";
  $("#config-relayer").value = config.relayer ?? "";
  $("#config-registry").textContent = `${config.registry} on chain ${config.chainId}`;
  const notes = [];
  for (const [name, url] of [["RPC", config.rpc], ["relayer", config.relayer]]) {
    if (!allowed(config, url)) notes.push(`This copy's security policy does not let the page reach the ${name} ${url}: use a copy exported with it (spartacus export-site --connect URL).`);
  }
  if (config.changed) notes.push("You changed these URLs in this browser.");
  say($("#config-note"), notes.join(" "));
  $("#config-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(CONFIG_KEY, JSON.stringify({ rpc: $("#config-rpc").value.trim(), relayer: $("#config-relayer").value.trim() }));
    window.location.reload();
  });
  $("#config-reset").addEventListener("click", () => {
    localStorage.removeItem(CONFIG_KEY);
    window.location.reload();
  });
}

// ---------------------------------------------------------------- views

function view(main, name) {
  const fragment = document.getElementById(`${name}-view`).content.cloneNode(true);
  main.replaceChildren(fragment);
  document.body.dataset.view = name;
}

async function homeView(main, reader) {
  view(main, "home");
  const list = $("#campaign-list");
  await reader.sync();
  const campaigns = reader.campaigns();
  list.replaceChildren(...campaigns.map((c) => {
    const item = el("li");
    item.append(el("a", c.title, { href: `#/c/${c.id}` }), el("span", ` ${c.active} of ${c.threshold} pledges, ${c.status}`, { class: "muted" }));
    return item;
  }));
  show($("#campaign-none"), campaigns.length === 0);
}

/** The relayer's POST endpoints at the configured relayer URL (CORS, no credentials). */
function relayer(config) {
  return (path, body) => {
    if (!config.relayer) throw new Error("No relayer is configured: pay the fee with your own wallet, or set a relayer URL above.");
    return api(`${config.relayer.replace(/\/+$/, "")}${path}`, body);
  };
}

async function campaignView(main, config, reader, id) {
  view(main, "campaign");
  await reader.sync();
  const info = await reader.detail(id);
  document.title = `${info.title} · Spartacus`;
  $("#title").textContent = info.title;
  $("#description").textContent = info.description;
  $("#plan").textContent = info.plan;
  $("#threshold").textContent = String(info.threshold);
  $("#terms").textContent = `${info.threshold} active pledges reveal the roster. Grace period: ${info.gracePeriod ? `${(info.gracePeriod / 3600).toFixed(1)} hours` : "none"}. Roster: ${info.rosterMode === "public" ? "published in the clear at the reveal" : "members only"}.`;
  $("#custodian-list").replaceChildren(...info.custodians.map((c) => {
    const item = el("li", `Custodian ${c.index + 1}: `, { id: `custodian-${c.index}` });
    item.append(el("span", "unknown custodian", { class: "custodian-label" }), " ", el("code", c.account, { class: "addr" }));
    return item;
  }));
  $("#custodian-trust").textContent = `Any ${info.custodianThreshold} of these ${info.custodians.length} custodian(s) acting together could read every pledge of this campaign at any time. Join only if you trust them not to.`;
  $("#share-url").value = new URL(here(`#/c/${id}`), window.location.href).href;
  showReport(config, id);
  const post = relayer(config);
  const source = {
    campaign: async () => info,
    watch: (campaignId, onSummary) => {
      setInterval(async () => {
        try {
          if (await reader.sync()) onSummary(reader.summary(campaignId));
        } catch {
          /* keep the last figures; the next read may work */
        }
      }, 3000);
    },
    pledgeOf: (campaignId, account) => reader.pledgeOf(campaignId, account),
    records: async (campaignId) => {
      await reader.sync();
      return reader.records(campaignId);
    },
    relay: (kind, body) => post(`/api/relay/${kind}`, body),
  };
  const page = {
    campaignId: id, chainId: config.chainId, registry: config.registry, directory: config.directory ?? [], relayer: null,
    cleanUrl: () => here(`#/c/${id}`), // a receipt link's code leaves; the campaign's route stays
  };
  return campaignPage(source, page);
}

/**
 * "Report this campaign": a report goes to the operator of a front, who can hide the campaign
 * on that front only. This copy has no operator of its own and shows every campaign of the
 * registry; with a relayer configured the link opens that site's report form (a plain page
 * there: nothing is sent from this copy), else there is no one to report to and no link.
 */
function showReport(config, id) {
  const field = $("#report-field");
  if (!config.relayer) return show(field, false);
  let host;
  try {
    host = new URL(config.relayer).host;
  } catch {
    return show(field, false);
  }
  $("#report-link").href = `${config.relayer.replace(/\/+$/, "")}/c/${id}/report`;
  $("#report-host").textContent = host;
  show(field, true);
}

async function createView(main, config, reader) {
  view(main, "create");
  const source = {
    post: relayer(config),
    visible: async (campaignId) => {
      for (let i = 0; i < 60; i++) {
        try {
          await reader.sync();
          if (reader.histories.get(Number(campaignId))?.terms) return true;
        } catch {
          /* not yet: ask again */
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      return false;
    },
    link: (result) => `#/c/${result.campaignId}`,
  };
  const page = { chainId: config.chainId, registry: config.registry, rules: config.rules };
  return createPage(source, page);
}
