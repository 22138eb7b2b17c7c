import { describe, expect, it } from 'vitest';
import committed from '../../machines/charts/conversation.chart.json';
import preRegistry from '../../machines/charts/pre-registry.chart.json';
import { buildChart, InvalidChartError } from '../../machines/chart';
import { validateChart } from '../../machines/validate';

/** A deep copy of the committed chart to break in one place. */
const copy = (): Record<string, any> => JSON.parse(JSON.stringify(committed));
const errorsOf = (chart: unknown) => {
  const r = validateChart(chart);
  return r.ok ? [] : r.errors;
};

describe('chart validator', () => {
  it('accepts the committed chart and the frozen pre-registry chart', () => {
    expect(errorsOf(committed)).toEqual([]);
    expect(errorsOf(preRegistry)).toEqual([]);
  });

  it('refuses an action, guard or actor that is not registered in code, instead of skipping it', () => {
    const chart = copy();
    chart.states.greeting.on['user.message'].actions = ['beginTurn', 'sendFlowers'];
    chart.states.routing.always[0].guard = 'isFullMoon';
    chart.states.understanding.invoke.src = 'askTheOracle';
    chart.states.understanding.invoke.id = 'askTheOracle';
    const errors = errorsOf(chart);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('unknown action "sendFlowers"'),
        expect.stringContaining('unknown guard "isFullMoon"'),
        expect.stringContaining('unknown actor "askTheOracle"'),
      ]),
    );
  });

  it('refuses a reply name that does not exist and an unknown expectation', () => {
    const chart = copy();
    chart.states.greeting.on['user.message'].actions = ['beginTurn', { type: 'say', params: { reply: 'singASong' } }];
    chart.states.routing.always[2].actions = { type: 'say', params: { reply: 'goodbye', expecting: 'applause' } };
    const errors = errorsOf(chart);
    expect(errors.some((e) => e.includes('"say" needs params.reply') && e.includes('singASong'))).toBe(true);
    expect(errors.some((e) => e.includes('params.expecting'))).toBe(true);
  });

  it('refuses a target that does not exist, a bad initial state and an unknown event', () => {
    const chart = copy();
    chart.states.routing.always[0].target = 'nowhere';
    chart.states.handoff.states.requesting.invoke.onError.target = '#conversation.lost';
    chart.states.answering.initial = 'dreaming';
    chart.states.idle.on = { 'user.shout': { target: 'routing' } };
    const errors = errorsOf(chart);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('target "nowhere" does not exist'),
        expect.stringContaining('target "#conversation.lost" does not exist'),
        expect.stringContaining('initial state "dreaming"'),
        expect.stringContaining('unknown event "user.shout"'),
      ]),
    );
  });

  it('refuses an invoke without an error branch', () => {
    const chart = copy();
    delete chart.states.lookingUpOrder.invoke.onError;
    expect(errorsOf(chart)).toEqual([expect.stringContaining('invoke "lookupOrder" has no onError branch')]);
  });

  it('refuses parameters out of range, missing, or unknown, and delayed transitions the interpreter cannot run', () => {
    const chart = copy();
    chart.params.confidentMargin = 2;
    delete chart.params.maxRejections;
    chart.params.mood = 'sunny';
    chart.states.idle.after = { 1000: 'closed' };
    const errors = errorsOf(chart).join('\n');
    expect(errors).toContain('params.confidentMargin');
    expect(errors).toContain('params.maxRejections');
    expect(errors).toContain('mood');
    expect(errors).toContain('after');
  });

  it('builds a runnable chart only from a valid definition', () => {
    expect(buildChart(7, committed).version).toBe(7);
    const chart = copy();
    chart.states.routing.always[0].target = 'nowhere';
    expect(() => buildChart(8, chart)).toThrow(InvalidChartError);
  });
});
