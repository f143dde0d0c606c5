/** The header a relay (the Slack bot) names the person it acts for in: `slack:U0123ABCD (alice)`. */
export const onBehalfOfHeader = 'x-fleetcast-on-behalf-of';
