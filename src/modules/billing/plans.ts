import { Plan } from './subscription.entity';

export interface PlanLimits {
  /** Seats a subscription must have at least. */
  minSeats: number;
  /** Active (non-guest) members allowed: a number, or 'seats' for as many as seats bought. */
  memberLimit: number | 'seats';
  /** null: unlimited. */
  workspaceLimit: number | null;
  creditsPerSeat: number;
}

/** The Plans table of API.md. */
export const PLANS: Readonly<Record<Plan, PlanLimits>> = {
  STARTER: { minSeats: 0, memberLimit: 1, workspaceLimit: 3, creditsPerSeat: 100 },
  PRO: { minSeats: 1, memberLimit: 'seats', workspaceLimit: 10, creditsPerSeat: 1_000 },
  TEAM: { minSeats: 1, memberLimit: 'seats', workspaceLimit: 50, creditsPerSeat: 2_000 },
  BUSINESS: { minSeats: 5, memberLimit: 'seats', workspaceLimit: 200, creditsPerSeat: 5_000 },
  ENTERPRISE: { minSeats: 25, memberLimit: 'seats', workspaceLimit: null, creditsPerSeat: 10_000 },
};
