import { expect } from "chai";
import { amazonLinuxParameter, architectureOf, partitionOf, s3ServiceName, tagsFor } from "../components/naming";

describe("naming helpers", () => {
    it("picks arm64 for Graviton families and x86_64 for the rest", () => {
        for (const t of ["t4g.small", "m7g.large", "c6gn.xlarge", "r6gd.large", "g5g.xlarge", "x2gd.medium", "im4gn.large"]) {
            expect(architectureOf(t), t).to.equal("arm64");
        }
        for (const t of ["t3.medium", "m5.large", "g5.xlarge", "g4dn.xlarge", "m6i.large", "c5n.large", "inf2.xlarge"]) {
            expect(architectureOf(t), t).to.equal("x86_64");
        }
    });

    it("names the Amazon Linux 2023 parameter for the instance's architecture", () => {
        expect(amazonLinuxParameter("m7g.large")).to.equal("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
        expect(amazonLinuxParameter("t3.medium")).to.match(/al2023-ami-kernel-default-x86_64$/);
    });

    it("knows the partitions of China and GovCloud regions", () => {
        expect(partitionOf("eu-west-1")).to.equal("aws");
        expect(partitionOf("cn-north-1")).to.equal("aws-cn");
        expect(partitionOf("us-gov-west-1")).to.equal("aws-us-gov");
    });

    it("names the S3 endpoint service, with China's cn. prefix", () => {
        expect(s3ServiceName("eu-west-1")).to.equal("com.amazonaws.eu-west-1.s3");
        expect(s3ServiceName("cn-north-1")).to.equal("cn.com.amazonaws.cn-north-1.s3");
    });

    it("puts the Name tag over any inherited one", () => {
        expect(tagsFor("orthanc-1", { Name: "x", Project: "orthweb" })).to.deep.equal({ Name: "orthanc-1", Project: "orthweb" });
    });
});
