import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createTransport, type TransportOptions } from './create-transport.js';
import type { WireItem } from './forward-item.js';
import type { FromTransportThread, ToTransportThread } from './transport-thread.js';

/**
 * Runs in a worker thread (transport-thread.ts): parses, formats and sends the batches for
 * one receiver. The thread lowers its own CPU priority (nice): while decisions keep the CPU busy
 * the kernel gives it what they leave, and forwarding catches up afterwards.
 */
const options = workerData as TransportOptions & { nice: number };
const port = parentPort!;
const post = (message: FromTransportThread) => port.postMessage(message);

lowerPriority(options.nice);
const transport = createTransport(options);
// A lost connection is told at once (the forwarder then sends again what it had not confirmed).
transport.onEpochChange = (epoch) => post({ type: 'epoch', epoch });

// The forwarder sends one batch at a time; it ends the thread with terminate() (shutdown).
port.on('message', (message: ToTransportThread) => void send(message.id, message.items));

async function send(id: number, items: WireItem[]): Promise<void> {
  try {
    await transport.send(items);
    post({ type: 'sent', id, epoch: transport.epoch });
  } catch (error) {
    post({ type: 'sent', id, epoch: transport.epoch, error: (error as Error).message });
  }
}

/** nice(2) for this thread alone: Linux keeps a nice value per thread, and a thread's id is its pid for setpriority. */
function lowerPriority(nice: number): void {
  if (nice === 0) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
  } catch (error) {
    post({ type: 'warning', message: `could not lower the forwarding thread's priority: ${(error as Error).message}` });
  }
}
