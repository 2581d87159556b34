/**
 * The counting TLS syslog receiver in a process of its own (receiverProcess): as a SIEM is, so
 * that decrypting and counting frames does not hold up the load generator's event loop.
 * Argument: the folder for its certificate. Sends {port, caFile} once, then {count} every 50 ms.
 */
import { countingReceiver } from './syslog-receiver.js';

const receiver = await countingReceiver(process.argv[2]);
process.send!({ port: receiver.port, caFile: receiver.caFile });
setInterval(() => process.send!({ count: receiver.count() }), 50);
process.on('disconnect', () => process.exit(0));
