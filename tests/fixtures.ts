// Sample inputs shared by several specs.
import { BootstrapParams } from "../components/bootstrap";

/** Bootstrap parameters as a real stack would render them. */
export const SAMPLE: BootstrapParams = {
    region: "eu-west-1",
    orthancImage: "orthancteam/orthanc:25.12.3",
    nginxImage: "nginx:1.28.0-alpine",
    orthanc: {
        name: "orthanc",
        aet: "ORTHANC",
        database: { host: "orthanc-db.abc.eu-west-1.rds.amazonaws.com", port: 5432, name: "orthanc" },
        bucket: { name: "orthanc-bucket-123", region: "eu-west-1" },
    },
    secretArns: {
        database: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
        databaseApp: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orthanc-database-app-1",
        admin: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orthanc-admin-1",
        tls: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orthanc-tls-1",
    },
};
