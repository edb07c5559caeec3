import { z } from 'zod';

const pointer = z.string().refine((value) => value === '' || value.startsWith('/'), {
  message: 'a JSON Pointer is empty or starts with "/"',
});

/** RFC 6902 operations, as accepted in proposals and shown on cards. */
export const OperationSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), path: pointer, value: z.json() }).strict(),
  z.object({ op: z.literal('remove'), path: pointer }).strict(),
  z.object({ op: z.literal('replace'), path: pointer, value: z.json() }).strict(),
  z.object({ op: z.literal('move'), from: pointer, path: pointer }).strict(),
  z.object({ op: z.literal('copy'), from: pointer, path: pointer }).strict(),
  z.object({ op: z.literal('test'), path: pointer, value: z.json() }).strict(),
]);
export type Operation = z.infer<typeof OperationSchema>;
