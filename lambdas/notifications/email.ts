import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { AppError } from '../domain/reasons.js';
import { classifyAwsError } from '../connectors/errors.js';

export interface EmailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Sends one email through SES (v2); failures carry a reason code (THROTTLED, TARGET_UNAVAILABLE, ...). */
export async function sendEmail(ses: SESv2Client, message: EmailMessage): Promise<string> {
  try {
    const out = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: message.from,
        Destination: { ToAddresses: [...message.to] },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: message.text, Charset: 'UTF-8' }, Html: { Data: message.html, Charset: 'UTF-8' } },
          },
        },
      }),
    );
    return out.MessageId ?? '';
  } catch (error) {
    throw new AppError(classifyAwsError(error), `sending email to ${message.to.join(', ')}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
