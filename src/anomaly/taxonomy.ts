/**
 * The anomaly taxonomy: every abnormal event the terminal can meet, with the short code the cashier reads to
 * support, the text of the error screen, the action to take, and what support does about it. The table is the
 * single source: the screen, the slip, the journal entry, telemetry and the README anomaly guide all read it. What
 * maps a fault, a host error or a response code to an anomaly is in classifier.ts.
 *
 * Code ranges: E1xx host/network, E2xx declined, E3xx hardware, E4xx operator, E5xx duplicate/unauthorized/fraud,
 * E6xx system/data. Codes are stable once shipped: support scripts and fleet dashboards key on them.
 *
 * The table is split by code range under taxonomy/; this module is the one name the rest of the code imports.
 */
export * from './taxonomy/vocabulary.js';
export * from './taxonomy/lookups.js';
export * from './taxonomy/render.js';
